#include "analysis/dashboard/study_watch.h"

#include <algorithm>
#include <cmath>
#include <ctime>
#include <limits>
#include <utility>

#include <fmt/core.h>

#include "caviar/attributes.h"
#include "caviar/babysit.h"
#include "caviar/error.h"
#include "caviar/export.h"
#include "caviar/pbt.h"
#include "caviar/report.h"
#include "caviar/retune.h"
#include "caviar/study_view.h"

namespace caviar::detail {

namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

json number_or_null(double v) { return std::isfinite(v) ? json(v) : json(nullptr); }

}  // namespace

std::int64_t epoch_ms(const std::optional<Clock::time_point>& t) {
  if (!t) return 0;
  return std::chrono::duration_cast<std::chrono::milliseconds>(t->time_since_epoch()).count();
}

json utc_time(std::int64_t ms) {
  if (ms <= 0) return nullptr;
  std::time_t seconds = static_cast<std::time_t>(ms / 1000);
  std::tm tm{};
  gmtime_r(&seconds, &tm);
  char text[32];
  std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%S", &tm);
  return fmt::format("{}.{:03d}Z", text, static_cast<int>(ms % 1000));
}

struct StudyWatch::Row {
  std::int64_t id = 0;
  int number = 0;
  TrialState state = TrialState::Running;
  double value = kNaN;          // NaN: none
  bool rankable = false;        // rankable() in trial.h: the one rule for "can be best"
  std::int64_t started_ms = 0, finished_ms = 0;
  std::uint64_t version = 0;    // the look that last changed it
  std::vector<double> params;   // internal values in names_ order; NaN: not set
  std::vector<std::pair<std::int64_t, double>> curve;  // at most kCurvePoints, last kept
  std::string reason;           // one line, bounded
  json lineage;                 // the "caviar:pbt" attribute, or null
  json babysit;                 // a babysat segment: {"lineage", "test_acc"}, or null

  bool same_as(const Row& o) const {
    auto same = [](double a, double b) { return a == b || (std::isnan(a) && std::isnan(b)); };
    return state == o.state && same(value, o.value) && finished_ms == o.finished_ms && curve == o.curve &&
           reason == o.reason && lineage == o.lineage && babysit == o.babysit;
  }
  std::size_t bytes() const {
    return sizeof(Row) + params.capacity() * sizeof(double) + curve.capacity() * sizeof(curve[0]) +
           reason.capacity() + (lineage.is_null() ? 0 : lineage.dump().size() * 3) +
           (babysit.is_null() ? 0 : babysit.dump().size() * 3);
  }
};

namespace {

// A re-tuned study's old study as its verdict is drawn from, at most kReportTrials trials
// (its importance is measured again with each page): the best, the ones the re-tuning ran
// first, and an even spread of the rest.
std::shared_ptr<const ComparedStudy> sampled(std::shared_ptr<const ComparedStudy> old, const RetuneLink& link) {
  const auto limit = static_cast<std::size_t>(StudyWatch::kReportTrials);
  if (old->trials.size() <= limit) return old;
  std::vector<bool> keep(old->trials.size(), false);
  std::size_t kept = 0;
  auto take = [&](std::size_t i) {
    if (!keep[i]) keep[i] = true, ++kept;
  };
  const TrialRecord* best = best_trial(old->trials, old->record.direction);
  auto run_first = [&](int number) {
    return std::any_of(link.runs.begin(), link.runs.end(), [&](const auto& run) { return run.first == number; });
  };
  for (std::size_t i = 0; i < old->trials.size(); ++i)
    if (&old->trials[i] == best || run_first(old->trials[i].number)) take(i);
  const double step = static_cast<double>(old->trials.size()) / static_cast<double>(limit - kept);
  for (double at = 0; at < static_cast<double>(old->trials.size()) && kept < limit; at += step)
    take(static_cast<std::size_t>(at));
  auto out = std::make_shared<ComparedStudy>(ComparedStudy{old->record, old->space, {}});
  for (std::size_t i = 0; i < old->trials.size(); ++i)
    if (keep[i]) out->trials.push_back(old->trials[i]);
  return out;
}

}  // namespace

StudyWatch::StudyWatch(std::shared_ptr<Storage> storage, StudyRecord record, std::string metric)
    : storage_(std::move(storage)), record_(std::move(record)), metric_(std::move(metric)) {}

StudyWatch::~StudyWatch() = default;

std::uint64_t StudyWatch::version() const {
  std::lock_guard lock(mutex_);
  return version_;
}

// ---------------------------------------------------------------- reading the store

bool StudyWatch::refresh() {
  std::lock_guard one_look(refresh_mutex_);
  std::vector<std::int64_t> again;
  std::int64_t after = 0;
  {
    std::lock_guard lock(mutex_);
    again = open_;
    after = last_id_;
  }
  // The study's own attributes (the space, zoom boxes) are small: read each look.
  StudyRecord fresh = record_;
  if (auto found = storage_->find_study(record_.name); found && found->id == record_.id) fresh = *found;
  bool changed = false;
  // A re-tuned study's old one (its verdict's other side): read once, when first linked.
  bool need_old;
  {
    std::lock_guard lock(mutex_);
    need_old = !retuned_from_;
  }
  if (const auto link = need_old ? retune_link(fresh) : std::nullopt)
    if (auto old = linked_old_study(storage_, fresh)) {
      std::lock_guard lock(mutex_);
      retuned_from_ = sampled(std::move(old), *link);
      changed = true;
    }
  // Batches of kBatch new trials, so that a study of 100,000 trials is never held whole as
  // TrialRecords; the trials read again come with the first batch.
  for (bool first = true;; first = false) {
    std::vector<TrialRecord> batch = storage_->trials_after(record_.id, after, kBatch, first ? again : std::vector<std::int64_t>{});
    std::int64_t highest = after;
    int fresh_ones = 0;
    for (const auto& t : batch)
      if (t.id > after) {
        highest = std::max(highest, t.id);
        ++fresh_ones;
      }
    changed |= apply(std::move(batch), fresh);
    after = highest;
    if (fresh_ones < kBatch) break;
  }
  std::lock_guard lock(mutex_);
  if (!loaded_) {
    loaded_ = true;
    changed = true;
  }
  if (changed) ++version_;
  // Rows changed in this look carry version_ + 1 (see apply): now the current version.
  return changed;
}

// Brings the copy up to date with trials just read. Returns whether anything changed.
bool StudyWatch::apply(std::vector<TrialRecord> trials, const StudyRecord& fresh) {
  std::lock_guard lock(mutex_);
  bool changed = false;
  if (fresh.system_attrs != record_.system_attrs) {
    record_.system_attrs = fresh.system_attrs;
    changed = true;
  }
  if (space_.empty() && !trials.empty()) {
    // The space kept with the study, or (a study Optuna wrote) its trials' distributions.
    try {
      space_ = stored_space(record_.system_attrs, trials);
    } catch (const Error&) {
    }
    names_.clear();
    for (const auto& p : space_.params()) names_.push_back(p.name);
    for (auto& row : rows_)
      if (row) row->params.resize(names_.size(), kNaN);
  }
  for (const TrialRecord& t : trials) {
    last_id_ = std::max(last_id_, t.id);
    Row row = make_row(t);
    row.version = version_ + 1;
    if (t.number < 0 || t.number > 100'000'000) continue;  // not a number Optuna gives
    const auto at = static_cast<std::size_t>(t.number);
    if (rows_.size() <= at) rows_.resize(at + 1);
    if (rows_[at] && rows_[at]->same_as(row)) continue;
    last_activity_ms_ = std::max({last_activity_ms_, row.started_ms, row.finished_ms});
    rows_[at] = std::make_unique<Row>(std::move(row));
    changed = true;
  }
  open_.clear();
  for (const auto& row : rows_)
    if (row && !is_finished(row->state)) open_.push_back(row->id);
  return changed;
}

StudyWatch::Row StudyWatch::make_row(const TrialRecord& t) const {
  Row row;
  row.id = t.id;
  row.number = t.number;
  row.state = t.state;
  if (t.value) row.value = *t.value;
  row.rankable = rankable(t);
  row.started_ms = epoch_ms(t.started);
  row.finished_ms = epoch_ms(t.finished);
  row.params.assign(names_.size(), kNaN);
  for (std::size_t i = 0; i < names_.size(); ++i)
    if (auto it = t.params.find(names_[i]); it != t.params.end()) row.params[i] = it->second;
  // The curve, downsampled to kCurvePoints evenly spaced points that keep the last one.
  std::vector<std::pair<std::int64_t, double>> all;
  for (const auto& [step, v] : t.intermediate)
    if (std::isfinite(v)) all.emplace_back(step, v);
  if (all.size() <= static_cast<std::size_t>(kCurvePoints)) {
    row.curve = std::move(all);
  } else {
    for (int i = 0; i < kCurvePoints; ++i)
      row.curve.push_back(all[static_cast<std::size_t>(std::llround(
          static_cast<double>(i) * static_cast<double>(all.size() - 1) / (kCurvePoints - 1)))]);
  }
  row.reason = t.reason_line().substr(0, 300);
  if (const json* l = pbt_lineage_of(t)) row.lineage = *l;
  if (const json* l = babysit_lineage_of(t)) {
    const std::optional<double> test = segment_test_acc(t);
    row.babysit = {{"lineage", *l}, {"test_acc", test ? json(*test) : json(nullptr)}};
  }
  return row;
}

// A TrialRecord of a row, for the code that draws the report (report_data) and PBT's
// lineage: parameters, value and lineage only.
TrialRecord StudyWatch::as_record(const Row& row) const {
  TrialRecord t;
  t.id = row.id;
  t.number = row.number;
  t.state = row.state;
  if (!std::isnan(row.value)) t.value = row.value;
  for (std::size_t i = 0; i < names_.size(); ++i)
    if (!std::isnan(row.params[i])) t.params[names_[i]] = row.params[i];
  t.parameters = space_.by_name();
  if (!row.lineage.is_null()) t.system_attrs[attr::kPbt] = row.lineage;
  if (!row.babysit.is_null()) {
    t.system_attrs[attr::kBabysit] = row.babysit["lineage"];
    if (row.babysit["test_acc"].is_number()) t.system_attrs[attr::kTestAcc] = row.babysit["test_acc"];
    for (const auto& [step, v] : row.curve) t.intermediate[step] = v;
    if (row.finished_ms) t.finished = Clock::time_point(std::chrono::milliseconds(row.finished_ms));
  }
  return t;
}

// ---------------------------------------------------------------- answers

const StudyWatch::Row* StudyWatch::best_row() const {
  const Row* best = nullptr;
  for (const auto& row : rows_)
    if (row && row->rankable && (!best || better(record_.direction, row->value, best->value))) best = row.get();
  return best;
}

json StudyWatch::counts_json() const {
  json c = json::object();
  for (TrialState s : {TrialState::Complete, TrialState::Pruned, TrialState::Failed, TrialState::Running,
                       TrialState::Waiting})
    c[to_string(s)] = 0;
  for (const auto& row : rows_)
    if (row) c[to_string(row->state)] = c[to_string(row->state)].get<int>() + 1;
  return c;
}

json StudyWatch::best_json() const {
  const Row* best = best_row();
  if (!best) return nullptr;
  return {{"number", best->number}, {"value", best->value}};
}

json StudyWatch::row_json(const Row& row) const {
  json curve = json::array();
  for (const auto& [step, v] : row.curve) curve.push_back({step, v});
  return {{"number", row.number}, {"state", to_string(row.state)}, {"value", number_or_null(row.value)},
          {"finished", utc_time(row.finished_ms)}, {"curve", std::move(curve)}};
}

json StudyWatch::summary() const {
  std::lock_guard lock(mutex_);
  return {{"id", record_.id}, {"name", record_.name}, {"direction", to_string(record_.direction)},
          {"metric", metric_.empty() ? "value" : metric_}, {"counts", counts_json()}, {"best", best_json()},
          {"last_activity", utc_time(last_activity_ms_)}, {"version", version_}};
}

std::shared_ptr<const std::string> StudyWatch::page_text() const {
  std::lock_guard one_at_a_time(page_mutex_);
  const auto now = std::chrono::steady_clock::now();
  // Kept for ten times as long as it took to make (at most kPageAge): a small study's page
  // is always fresh, a large one's is not drawn again and again.
  const auto age = std::min<std::chrono::steady_clock::duration>(kPageAge, 10 * page_cost_);
  if (page_ && (page_version_ == version() || now - page_made_ < age)) return page_;
  std::uint64_t version = 0;
  page_ = std::make_shared<const std::string>(
      page(&version).dump(-1, ' ', false, json::error_handler_t::replace));
  page_version_ = version;
  page_made_ = now;
  page_cost_ = std::chrono::steady_clock::now() - now;
  return page_;
}

json StudyWatch::page(std::uint64_t* made_at) const {
  std::unique_lock lock(mutex_);
  if (made_at) *made_at = version_;
  json out;
  out["version"] = version_;
  out["study"] = {{"id", record_.id}, {"name", record_.name}, {"direction", to_string(record_.direction)},
                  {"metric", metric_.empty() ? "value" : metric_}, {"counts", counts_json()},
                  {"best", best_json()}, {"last_activity", utc_time(last_activity_ms_)}};

  // Best so far: every improvement, and the complete values (a sample when there are many).
  std::vector<const Row*> ranked;
  for (const auto& row : rows_)
    if (row && row->rankable) ranked.push_back(row.get());
  json history = {{"number", json::array()}, {"value", json::array()}, {"finished", json::array()}};
  json steps = history;
  const double stride = std::max(1.0, static_cast<double>(ranked.size()) / kHistoryPoints);
  double next = 0;
  const Row* best = nullptr;
  for (std::size_t i = 0; i < ranked.size(); ++i) {
    const Row* r = ranked[i];
    const bool improves = !best || better(record_.direction, r->value, best->value);
    if (improves) {
      best = r;
      steps["number"].push_back(r->number);
      steps["value"].push_back(r->value);
      steps["finished"].push_back(utc_time(r->finished_ms));
    }
    if (improves || static_cast<double>(i) >= next) {
      history["number"].push_back(r->number);
      history["value"].push_back(r->value);
      history["finished"].push_back(utc_time(r->finished_ms));
      if (static_cast<double>(i) >= next) next += stride;
    }
  }
  out["history"] = std::move(history);
  out["best_steps"] = std::move(steps);

  // Learning curves: the running trials, then the best, then the most recent.
  std::vector<const Row*> with_curves, chosen;
  for (const auto& row : rows_)
    if (row && !row->curve.empty()) with_curves.push_back(row.get());
  std::vector<bool> taken(rows_.size(), false);
  auto take = [&](const Row* r) {
    if (chosen.size() < static_cast<std::size_t>(kCurves) && !taken[static_cast<std::size_t>(r->number)]) {
      taken[static_cast<std::size_t>(r->number)] = true;
      chosen.push_back(r);
    }
  };
  for (const Row* r : with_curves)
    if (r->state == TrialState::Running) take(r);
  {
    std::vector<const Row*> by_value;
    for (const Row* r : with_curves)
      if (r->rankable) by_value.push_back(r);
    std::sort(by_value.begin(), by_value.end(),
              [&](const Row* a, const Row* b) { return better(record_.direction, a->value, b->value); });
    for (std::size_t i = 0; i < by_value.size() && i < static_cast<std::size_t>(kCurves / 2); ++i) take(by_value[i]);
  }
  for (auto it = with_curves.rbegin(); it != with_curves.rend(); ++it) take(*it);
  std::sort(chosen.begin(), chosen.end(), [](const Row* a, const Row* b) { return a->number < b->number; });
  json curves = json::array();
  for (const Row* r : chosen) curves.push_back(row_json(*r));
  out["curves"] = std::move(curves);
  out["curves_shown"] = chosen.size();
  out["curves_total"] = with_curves.size();

  // The analysis plots (the report's own data), over a sample: every running trial's and
  // the best ones' places matter least, so the sample is the best third and an even
  // spread of the rest.
  std::vector<TrialRecord> sample;
  std::size_t present = 0;
  for (const auto& row : rows_)
    if (row) ++present;
  if (present <= static_cast<std::size_t>(kReportTrials)) {
    for (const auto& row : rows_)
      if (row) sample.push_back(as_record(*row));
  } else {
    std::vector<bool> in(rows_.size(), false);
    std::sort(ranked.begin(), ranked.end(),
              [&](const Row* a, const Row* b) { return better(record_.direction, a->value, b->value); });
    for (std::size_t i = 0; i < ranked.size() && i < static_cast<std::size_t>(kReportTrials / 3); ++i)
      in[static_cast<std::size_t>(ranked[i]->number)] = true;
    const double step = static_cast<double>(present) / (kReportTrials - kReportTrials / 3);
    double at = 0;
    std::size_t seen = 0;
    for (const auto& row : rows_) {
      if (!row) continue;
      if (static_cast<double>(seen++) >= at) {
        in[static_cast<std::size_t>(row->number)] = true;
        at += step;
      }
    }
    for (const auto& row : rows_)
      if (row && in[static_cast<std::size_t>(row->number)]) sample.push_back(as_record(*row));
  }
  out["report_trials"] = sample.size();
  out["report_of"] = present;
  std::vector<TrialRecord> members, babysat;
  for (const auto& row : rows_) {
    if (row && !row->lineage.is_null()) members.push_back(as_record(*row));
    if (row && !row->babysit.is_null()) babysat.push_back(as_record(*row));
  }
  const StudyRecord record = record_;
  const SearchSpace space = space_;
  const auto retuned_from = retuned_from_;
  // The analysis (fANOVA among it) runs on the copies, without holding up the looks.
  lock.unlock();
  ReportOptions options;
  options.metric = metric_;
  options.retuned_from = retuned_from;
  out["report"] = space.empty() ? json(nullptr) : report_data(record, space, sample, options);
  out["lineage"] = members.empty() ? json::array() : pbt_lineage(members);
  // A babysat model: its tree, and what caviar would change now (docs/babysit.md).
  out["babysit"] = babysat.empty() ? json(nullptr) : babysit_tree(babysat, record.system_attrs, record.direction);
  if (!babysat.empty() && !space.empty()) {
    const BabysitRun run = babysit_run(babysat);
    const auto s = babysit_suggest(space, record.direction, BabysitOptions{}, run, metric_.empty() ? "value" : metric_);
    out["babysit"]["suggestion"] =
        s ? json{{"kind", s->kind}, {"params", s->params}, {"to", s->to ? json(*s->to) : json(nullptr)}, {"words", s->words}}
          : json(nullptr);
  }
  return out;
}

bool StudyWatch::babysat() const {
  std::lock_guard lock(mutex_);
  return std::any_of(rows_.begin(), rows_.end(), [](const auto& row) { return row && !row->babysit.is_null(); });
}

json StudyWatch::changes(std::uint64_t since) const {
  std::lock_guard lock(mutex_);
  json out = {{"version", version_}, {"counts", counts_json()}, {"best", best_json()},
              {"last_activity", utc_time(last_activity_ms_)}};
  if (since > version_) {
    out["reset"] = true;  // a version this server never had (it was started again)
    return out;
  }
  json trials = json::array();
  for (const auto& row : rows_)
    if (row && row->version > since) {
      if (trials.size() >= static_cast<std::size_t>(kChanges)) {
        out["reset"] = true;  // too far behind: fetch the page again
        return out;
      }
      trials.push_back(row_json(*row));
    }
  out["trials"] = std::move(trials);
  return out;
}

json StudyWatch::table(const TableQuery& q) const {
  if (q.limit < 1 || q.limit > 500) throw UsageError("limit", "must be 1 to 500");
  if (q.offset < 0) throw UsageError("offset", "must be 0 or more");
  std::lock_guard lock(mutex_);
  int param = -1;  // the filtered parameter's index
  if (!q.param.empty()) {
    auto it = std::find(names_.begin(), names_.end(), q.param);
    if (it == names_.end()) throw UsageError("param", fmt::format("no parameter '{}' in this study", q.param));
    param = static_cast<int>(it - names_.begin());
  }
  int sort_param = -1;
  if (q.sort != "number" && q.sort != "value" && q.sort != "seconds") {
    auto it = std::find(names_.begin(), names_.end(), q.sort);
    if (it == names_.end()) throw UsageError("sort", fmt::format("'{}' is not number, value, seconds or a parameter", q.sort));
    sort_param = static_cast<int>(it - names_.begin());
  }
  const Parameter* filtered = param >= 0 ? &space_.params()[static_cast<std::size_t>(param)] : nullptr;
  std::optional<double> choice_index;
  if (filtered && q.choice) {
    for (std::size_t i = 0; i < filtered->choices.size(); ++i) {
      const json& c = filtered->choices[i];
      if ((c.is_string() ? c.get<std::string>() : c.dump()) == *q.choice) choice_index = static_cast<double>(i);
    }
    if (!choice_index) throw UsageError("choice", fmt::format("'{}' is not a value of {}", *q.choice, q.param));
  }
  auto seconds = [](const Row& r) {
    return r.started_ms && r.finished_ms ? static_cast<double>(r.finished_ms - r.started_ms) / 1000 : kNaN;
  };
  std::vector<const Row*> match;
  for (const auto& row : rows_) {
    if (!row) continue;
    if (!q.states.empty() && std::find(q.states.begin(), q.states.end(), row->state) == q.states.end()) continue;
    if (filtered) {
      const double internal = row->params[static_cast<std::size_t>(param)];
      if (std::isnan(internal)) continue;
      if (choice_index) {
        if (internal != *choice_index) continue;
      } else {
        const json user = filtered->external(internal);
        if (!user.is_number()) continue;
        const double v = user.get<double>();
        if ((q.min && v < *q.min) || (q.max && v > *q.max)) continue;
      }
    }
    match.push_back(row.get());
  }
  // Missing values (NaN) sort last either way.
  auto key = [&](const Row* r) -> double {
    if (q.sort == "number") return r->number;
    if (q.sort == "value") return r->value;
    if (q.sort == "seconds") return seconds(*r);
    return r->params[static_cast<std::size_t>(sort_param)];
  };
  std::stable_sort(match.begin(), match.end(), [&](const Row* a, const Row* b) {
    const double x = key(a), y = key(b);
    if (std::isnan(x) || std::isnan(y)) return !std::isnan(x) && std::isnan(y);
    return q.descending ? x > y : x < y;
  });
  json rows = json::array();
  for (std::size_t i = static_cast<std::size_t>(q.offset); i < match.size() && rows.size() < static_cast<std::size_t>(q.limit); ++i) {
    const Row& r = *match[i];
    json params = json::object();
    for (std::size_t p = 0; p < names_.size(); ++p)
      if (!std::isnan(r.params[p])) params[names_[p]] = space_.params()[p].text(r.params[p]);
    rows.push_back({{"number", r.number}, {"state", to_string(r.state)}, {"value", number_or_null(r.value)},
                    {"params", std::move(params)}, {"started", utc_time(r.started_ms)},
                    {"finished", utc_time(r.finished_ms)}, {"seconds", number_or_null(seconds(r))},
                    {"reason", r.reason.empty() ? json(nullptr) : json(r.reason)}});
  }
  return {{"total", match.size()}, {"params", names_}, {"rows", std::move(rows)}, {"version", version_}};
}

std::size_t StudyWatch::bytes() const {
  std::lock_guard lock(mutex_);
  std::size_t n = sizeof(*this) + rows_.capacity() * sizeof(rows_[0]) + open_.capacity() * sizeof(open_[0]);
  for (const auto& row : rows_)
    if (row) n += row->bytes();
  return n;
}

}  // namespace caviar::detail
