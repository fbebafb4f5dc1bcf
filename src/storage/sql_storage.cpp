#include "storage/sql_storage.h"

#include <cmath>
#include <cstdlib>
#include <map>
#include <memory>

#include <fmt/core.h>

#include "caviar/attributes.h"
#include "caviar/error.h"
#include "storage/common.h"
#include "storage/optuna_format.h"

namespace caviar::detail {

SqlArg::SqlArg(double v) {
  if (std::isfinite(v)) value = v;
}

bool SqlRows::is_null(int row, int col) const {
  return std::holds_alternative<std::monostate>(rows[row][col]);
}

std::int64_t SqlRows::integer(int row, int col) const {
  const SqlValue& v = rows[row][col];
  if (auto* i = std::get_if<std::int64_t>(&v)) return *i;
  if (auto* d = std::get_if<double>(&v)) return static_cast<std::int64_t>(*d);
  if (auto* s = std::get_if<std::string>(&v)) return std::strtoll(s->c_str(), nullptr, 10);
  return 0;
}

std::optional<double> SqlRows::real(int row, int col) const {
  const SqlValue& v = rows[row][col];
  if (auto* d = std::get_if<double>(&v)) return *d;
  if (auto* i = std::get_if<std::int64_t>(&v)) return static_cast<double>(*i);
  if (auto* s = std::get_if<std::string>(&v)) return std::strtod(s->c_str(), nullptr);
  return std::nullopt;
}

std::string SqlRows::text(int row, int col) const {
  const SqlValue& v = rows[row][col];
  if (auto* s = std::get_if<std::string>(&v)) return *s;
  if (auto* i = std::get_if<std::int64_t>(&v)) return std::to_string(*i);
  if (auto* d = std::get_if<double>(&v)) return fmt::format("{}", *d);
  return "";
}

namespace {

// Optuna's type of a final value has no NaN (only its intermediate values do): a NaN is
// stored as NULL with type FINITE, which reads back as NaN.
const char* final_value_type(double v) { return std::isnan(v) ? "FINITE" : optuna_value_type(v); }

}  // namespace

// ---------------------------------------------------------------- the Storage interface

StudyRecord SqlStorage::open_study(const std::string& name, Direction direction) {
  return write([&] {
    if (auto s = find_study_locked(name)) {
      check_direction(*s, direction);
      return *s;
    }
    SqlRows r = query("INSERT INTO studies (study_name) VALUES (?) RETURNING study_id", {name});
    query("INSERT INTO study_directions (direction, study_id, objective) VALUES (?, ?, 0)",
          {direction == Direction::Minimize ? "MINIMIZE" : "MAXIMIZE", r.integer(0, 0)});
    return *find_study_locked(name);
  });
}

std::optional<StudyRecord> SqlStorage::find_study(const std::string& name) {
  return read([&] { return find_study_locked(name); });
}

std::vector<StudyRecord> SqlStorage::studies() {
  return read([&] {
    SqlRows r = query("SELECT study_name FROM studies ORDER BY study_id");
    std::vector<StudyRecord> out;
    for (int i = 0; i < r.size(); ++i) out.push_back(*find_study_locked(r.text(i, 0)));
    return out;
  });
}

void SqlStorage::set_study_attr(std::int64_t study_id, const std::string& key, const json& value) {
  write([&] {
    query("INSERT INTO study_system_attributes (study_id, key, value_json) VALUES (?, ?, ?) "
          "ON CONFLICT (study_id, key) DO UPDATE SET value_json = excluded.value_json",
          {study_id, key, value.dump()});
    return 0;
  });
}

std::optional<TrialRecord> SqlStorage::start_trial(const StartRequest& request) {
  return write([&]() -> std::optional<TrialRecord> {
    const auto now = Clock::now();
    for (const auto& stale : fail_stale_locked(request.study_id, stale_grace(), now)) {
      json attrs = retry_attrs(stale, request.retry);
      if (!attrs.is_null() && request.space)
        enqueue_locked(request.study_id, request.space->to_json(stale.params), attrs);
    }
    std::optional<std::pair<std::int64_t, int>> waiting;
    {
      SqlRows r = query("SELECT trial_id, number FROM trials WHERE study_id = ? AND "
                        "state = 'WAITING' ORDER BY trial_id LIMIT 1",
                        {request.study_id});
      if (r.size()) waiting = {r.integer(0, 0), static_cast<int>(r.integer(0, 1))};
    }
    if (!waiting && request.budget && counted_locked(request.study_id) >= *request.budget)
      return std::nullopt;
    Params fixed;
    if (waiting) fixed = fixed_params(load_trial(waiting->first), request.space);
    std::vector<TrialRecord> history;
    if (request.needs_history) history = load_trials(request.study_id);
    const int number = waiting ? waiting->second : count_locked(request.study_id);
    auto draft = request.propose(history, fixed, number);
    if (!draft) return std::nullopt;
    const std::string started = format_time(now);
    std::int64_t id;
    if (waiting) {
      id = waiting->first;
      query("UPDATE trials SET state = 'RUNNING', datetime_start = ? WHERE trial_id = ?", {started, id});
    } else {
      id = query("INSERT INTO trials (number, study_id, state, datetime_start) "
                 "VALUES (?, ?, 'RUNNING', ?) RETURNING trial_id",
                 {number, request.study_id, started})
               .integer(0, 0);
    }
    auto parameters = request.space ? request.space->by_name() : nullptr;
    for (const auto& [name, value] : draft->params) {
      const Parameter* p = nullptr;
      if (parameters)
        if (auto it = parameters->find(name); it != parameters->end()) p = &it->second;
      query("INSERT INTO trial_params (trial_id, param_name, param_value, distribution_json) "
            "VALUES (?, ?, ?, ?) ON CONFLICT (trial_id, param_name) DO UPDATE SET "
            "param_value = excluded.param_value, distribution_json = excluded.distribution_json",
            {id, name, value, p ? detail::optuna_distribution(*p).dump() : std::string("{}")});
    }
    if (request.heartbeat) draft->system_attrs[attr::kOwner] = owner_attr();
    for (const auto& [key, value] : draft->system_attrs.items()) set_attr_locked(id, key, value);
    if (request.heartbeat) beat_locked(id, now);
    if (waiting) return load_trial(id);
    return running_trial(id, number, std::move(*draft), std::move(parameters), started);
  });
}

TrialRecord SqlStorage::enqueue_trial(std::int64_t study_id, const json& fixed_params,
                                      const json& system_attrs) {
  return write([&] { return enqueue_locked(study_id, fixed_params, system_attrs); });
}

void SqlStorage::report(std::int64_t trial_id, std::int64_t step, double value) {
  write([&] {
    query("INSERT INTO trial_intermediate_values (trial_id, step, intermediate_value, "
          "intermediate_value_type) VALUES (?, ?, ?, ?) ON CONFLICT (trial_id, step) DO "
          "UPDATE SET intermediate_value = excluded.intermediate_value, "
          "intermediate_value_type = excluded.intermediate_value_type",
          {trial_id, step, value, optuna_value_type(value)});
    return 0;
  });
}

void SqlStorage::set_trial_param(std::int64_t trial_id, const Parameter& parameter, double internal) {
  write([&] {
    SqlRows r = query("SELECT state FROM trials WHERE trial_id = ?", {trial_id});
    if (!r.size()) throw UsageError(fmt::format("trial id {}", trial_id), "no such trial");
    if (r.text(0, 0) != "RUNNING")
      throw UsageError(fmt::format("trial id {}", trial_id),
                       "the trial is not running: a parameter is added while it runs");
    query("INSERT INTO trial_params (trial_id, param_name, param_value, distribution_json) "
          "VALUES (?, ?, ?, ?) ON CONFLICT (trial_id, param_name) DO UPDATE SET "
          "param_value = excluded.param_value, distribution_json = excluded.distribution_json",
          {trial_id, parameter.name, internal, detail::optuna_distribution(parameter).dump()});
    cache_.erase(trial_id);
    return 0;
  });
}

void SqlStorage::set_trial_attr(std::int64_t trial_id, const std::string& key, const json& value) {
  write([&] {
    set_attr_locked(trial_id, key, value);
    cache_.erase(trial_id);
    return 0;
  });
}

void SqlStorage::heartbeat(const std::vector<std::int64_t>& trial_ids) {
  if (trial_ids.empty()) return;
  write([&] {
    const auto now = Clock::now();
    for (auto id : trial_ids) beat_locked(id, now);
    return 0;
  });
}

bool SqlStorage::finish_trial(std::int64_t trial_id, TrialState state, std::optional<double> value,
                              const json& system_attrs, const std::optional<Requeue>& requeue) {
  return write([&] {
    SqlRows r = query("SELECT state, study_id FROM trials WHERE trial_id = ?", {trial_id});
    if (!r.size()) throw UsageError("trial", fmt::format("no trial with id {}", trial_id));
    if (r.text(0, 0) != "RUNNING") return false;
    const std::int64_t study_id = r.integer(0, 1);
    query("UPDATE trials SET state = ?, datetime_complete = ? WHERE trial_id = ?",
          {optuna_state(state), format_time(Clock::now()), trial_id});
    if (value)
      query("INSERT INTO trial_values (trial_id, objective, value, value_type) VALUES (?, 0, ?, ?) "
            "ON CONFLICT (trial_id, objective) DO UPDATE SET value = excluded.value, "
            "value_type = excluded.value_type",
            {trial_id, *value, final_value_type(*value)});
    if (system_attrs.is_object())
      for (const auto& [key, v] : system_attrs.items()) set_attr_locked(trial_id, key, v);
    query("DELETE FROM trial_heartbeats WHERE trial_id = ?", {trial_id});
    if (requeue) enqueue_locked(study_id, requeue->params, requeue->system_attrs);
    return true;
  });
}

std::vector<TrialRecord> SqlStorage::fail_stale(std::int64_t study_id, std::chrono::milliseconds grace) {
  return write([&] { return fail_stale_locked(study_id, grace, Clock::now()); });
}

std::vector<TrialRecord> SqlStorage::rerun_failed(std::int64_t study_id, const SearchSpace& space) {
  return write([&] {
    std::vector<TrialRecord> out;
    for (const TrialRecord& failed : load_trials(study_id)) {
      if (failed.state != TrialState::Failed || !failed.counted()) continue;
      json attrs = {{attr::kAttempt, failed.system_attrs.value(attr::kAttempt, 1) + 1},
                    {attr::kRetryOf, failed.number}};
      out.push_back(enqueue_locked(study_id, space.to_json(failed.params), attrs));
      set_attr_locked(failed.id, attr::kUncounted, true);
      set_attr_locked(failed.id, attr::kRerunAs, out.back().number);
      cache_.erase(failed.id);
    }
    return out;
  });
}

void SqlStorage::delete_study(std::int64_t study_id) {
  write([&] {
    if (!query("SELECT study_id FROM studies WHERE study_id = ?", {study_id}).size())
      throw UsageError("study", fmt::format("no study with id {}", study_id));
    for (const char* table : {"trial_values", "trial_intermediate_values", "trial_params",
                              "trial_user_attributes", "trial_system_attributes", "trial_heartbeats"})
      query(fmt::format("DELETE FROM {} WHERE trial_id IN (SELECT trial_id FROM trials WHERE study_id = ?)",
                        table),
            {study_id});
    for (const char* table : {"trials", "study_directions", "study_user_attributes",
                              "study_system_attributes", "studies"})
      query(fmt::format("DELETE FROM {} WHERE study_id = ?", table), {study_id});
    cache_.clear();
    return 0;
  });
}

std::vector<TrialRecord> SqlStorage::trials(std::int64_t study_id) {
  return read([&] { return load_trials(study_id); });
}

std::vector<TrialRecord> SqlStorage::trials_after(std::int64_t study_id, std::int64_t after_id, int limit,
                                                  const std::vector<std::int64_t>& again) {
  return read([&] {
    // The new trials are a range of ids; the ones read again are listed (ids are integers
    // that caviar formats itself, so they go into the text of the statement).
    std::vector<TrialRecord> out;
    SqlRows last = query("SELECT max(trial_id) FROM (SELECT trial_id FROM trials WHERE study_id = ? AND "
                         "trial_id > ? ORDER BY trial_id LIMIT ?) AS batch",
                         {study_id, after_id, limit});
    if (!last.is_null(0, 0))
      out = load_trials_where(fmt::format("t.study_id = {} AND t.trial_id > {} AND t.trial_id <= {}", study_id,
                                          after_id, last.integer(0, 0)));
    for (std::size_t from = 0; from < again.size(); from += 500) {
      std::string ids;
      for (std::size_t i = from; i < std::min(again.size(), from + 500); ++i)
        ids += fmt::format("{}{}", ids.empty() ? "" : ",", again[i]);
      for (auto& t : load_trials_where(fmt::format("t.study_id = {} AND t.trial_id IN ({})", study_id, ids)))
        out.push_back(std::move(t));
    }
    return out;
  });
}

std::optional<TrialRecord> SqlStorage::trial(std::int64_t study_id, int number) {
  return read([&]() -> std::optional<TrialRecord> {
    SqlRows r = query("SELECT trial_id FROM trials WHERE study_id = ? AND number = ?", {study_id, number});
    if (!r.size()) return std::nullopt;
    return load_trial(r.integer(0, 0));
  });
}

TrialCounts SqlStorage::counts(std::int64_t study_id) {
  return read([&] {
    TrialCounts c;
    SqlRows r = query("SELECT state, count(*) FROM trials WHERE study_id = ? GROUP BY state", {study_id});
    for (int i = 0; i < r.size(); ++i) c.of(state_from_optuna(r.text(i, 0))) = static_cast<int>(r.integer(i, 1));
    c.counted = counted_locked(study_id);
    return c;
  });
}

// ---------------------------------------------------------------- inside a transaction

std::optional<StudyRecord> SqlStorage::find_study_locked(const std::string& name) {
  SqlRows r = query("SELECT s.study_id, d.direction FROM studies s LEFT JOIN study_directions d "
                    "ON d.study_id = s.study_id AND d.objective = 0 WHERE s.study_name = ?",
                    {name});
  if (!r.size()) return std::nullopt;
  StudyRecord s;
  s.id = r.integer(0, 0);
  s.name = name;
  s.direction = r.text(0, 1) == "MAXIMIZE" ? Direction::Maximize : Direction::Minimize;
  s.system_attrs = load_attrs("SELECT key, value_json FROM study_system_attributes WHERE study_id = ?", s.id);
  s.user_attrs = load_attrs("SELECT key, value_json FROM study_user_attributes WHERE study_id = ?", s.id);
  return s;
}

json SqlStorage::load_attrs(const char* sql, std::int64_t id) {
  json out = json::object();
  SqlRows r = query(sql, {id});
  for (int i = 0; i < r.size(); ++i) out[r.text(i, 0)] = json::parse(r.text(i, 1), nullptr, false);
  return out;
}

void SqlStorage::set_attr_locked(std::int64_t trial_id, const std::string& key, const json& value) {
  query("INSERT INTO trial_system_attributes (trial_id, key, value_json) VALUES (?, ?, ?) "
        "ON CONFLICT (trial_id, key) DO UPDATE SET value_json = excluded.value_json",
        {trial_id, key, value.dump()});
}

TrialRecord SqlStorage::enqueue_locked(std::int64_t study_id, const json& fixed_params,
                                       const json& system_attrs) {
  const std::int64_t id =
      query("INSERT INTO trials (number, study_id, state) VALUES (?, ?, 'WAITING') RETURNING trial_id",
            {count_locked(study_id), study_id})
          .integer(0, 0);
  set_attr_locked(id, "fixed_params", fixed_params);
  if (system_attrs.is_object())
    for (const auto& [key, value] : system_attrs.items()) set_attr_locked(id, key, value);
  return load_trial(id);
}

// The number the next trial gets: Optuna numbers trials by their count in the study.
int SqlStorage::count_locked(std::int64_t study_id) {
  return static_cast<int>(query("SELECT count(*) FROM trials WHERE study_id = ?", {study_id}).integer(0, 0));
}

// Trials that use up the budget: all but the failures marked uncounted.
int SqlStorage::counted_locked(std::int64_t study_id) {
  SqlRows r = query("SELECT count(*) FROM trial_system_attributes a JOIN trials t ON t.trial_id = a.trial_id "
                    "WHERE a.key = 'caviar:uncounted' AND a.value_json = 'true' AND t.study_id = ? "
                    "AND t.state = 'FAIL'",
                    {study_id});
  return count_locked(study_id) - static_cast<int>(r.integer(0, 0));
}

std::vector<TrialRecord> SqlStorage::fail_stale_locked(std::int64_t study_id, std::chrono::milliseconds grace,
                                                       Clock::time_point now) {
  std::vector<TrialRecord> out;
  const auto silences = silences_locked(study_id, now);
  if (silences.empty()) return out;
  // The owners of the running trials: one on this machine that is gone fails its trials at
  // once, without waiting for `grace` (a caviar killed and started again).
  std::unordered_map<std::int64_t, json> owners;
  SqlRows r = query("SELECT a.trial_id, a.value_json FROM trial_system_attributes a JOIN trials t "
                    "ON t.trial_id = a.trial_id WHERE t.study_id = ? AND t.state = 'RUNNING' "
                    "AND a.key = 'caviar:owner'",
                    {study_id});
  for (int i = 0; i < r.size(); ++i) owners[r.integer(i, 0)] = json::parse(r.text(i, 1), nullptr, false);
  for (auto [id, silence] : silences) {
    json attrs;
    if (silence > grace) attrs = stale_attrs(silence);
    else if (auto owner = owners.find(id); owner != owners.end()) attrs = dead_owner_attrs(owner->second);
    if (attrs.is_null()) continue;
    out.push_back(load_trial(id));
    query("UPDATE trials SET state = 'FAIL', datetime_complete = ? WHERE trial_id = ?", {format_time(now), id});
    for (const auto& [key, value] : attrs.items()) set_attr_locked(id, key, value);
    query("DELETE FROM trial_heartbeats WHERE trial_id = ?", {id});
  }
  return out;
}

TrialRecord SqlStorage::load_trial(std::int64_t id) {
  auto cached = cache_.find(id);
  if (cached != cache_.end()) return cached->second;
  TrialRecord t;
  {
    SqlRows r = query("SELECT number, state, datetime_start, datetime_complete FROM trials WHERE trial_id = ?", {id});
    if (!r.size()) throw UsageError("trial", fmt::format("no trial with id {}", id));
    t.id = id;
    t.number = static_cast<int>(r.integer(0, 0));
    t.state = state_from_optuna(r.text(0, 1));
    if (!r.is_null(0, 2)) t.started = parse_time(r.text(0, 2));
    if (!r.is_null(0, 3)) t.finished = parse_time(r.text(0, 3));
  }
  {
    SqlRows r = query("SELECT param_name, param_value, distribution_json FROM trial_params WHERE trial_id = ?", {id});
    auto parameters = std::make_shared<std::map<std::string, Parameter>>();
    for (int i = 0; i < r.size(); ++i) {
      const std::string name = r.text(i, 0);
      t.params[name] = r.real(i, 1).value_or(std::nan(""));
      const json d = json::parse(r.text(i, 2), nullptr, false);
      try {
        parameters->emplace(name, detail::parameter_from_optuna(name, d));
      } catch (const std::exception&) {
        // a distribution caviar cannot read: the value is shown as the stored number
      }
    }
    t.parameters = std::move(parameters);
  }
  {
    SqlRows r = query("SELECT value, value_type FROM trial_values WHERE trial_id = ? AND objective = 0", {id});
    if (r.size()) t.value = value_from_optuna(r.real(0, 0), r.text(0, 1));
  }
  {
    SqlRows r = query("SELECT step, intermediate_value, intermediate_value_type FROM trial_intermediate_values "
                      "WHERE trial_id = ?",
                      {id});
    for (int i = 0; i < r.size(); ++i) t.intermediate[r.integer(i, 0)] = value_from_optuna(r.real(i, 1), r.text(i, 2));
  }
  t.system_attrs = load_attrs("SELECT key, value_json FROM trial_system_attributes WHERE trial_id = ?", id);
  t.user_attrs = load_attrs("SELECT key, value_json FROM trial_user_attributes WHERE trial_id = ?", id);
  if (is_finished(t.state)) cache_[id] = t;
  return t;
}

// The trials `where` selects (a condition on `t`, the trials table), with six statements in
// all rather than six per trial, bypassing the cache of finished trials.
std::vector<TrialRecord> SqlStorage::load_trials_where(const std::string& where) {
  std::vector<TrialRecord> out;
  std::unordered_map<std::int64_t, std::size_t> at;
  {
    SqlRows r = query("SELECT t.trial_id, t.number, t.state, t.datetime_start, t.datetime_complete FROM trials t "
                      "WHERE " + where + " ORDER BY t.trial_id");
    out.resize(static_cast<std::size_t>(r.size()));
    for (int i = 0; i < r.size(); ++i) {
      TrialRecord& t = out[static_cast<std::size_t>(i)];
      t.id = r.integer(i, 0);
      t.number = static_cast<int>(r.integer(i, 1));
      t.state = state_from_optuna(r.text(i, 2));
      if (!r.is_null(i, 3)) t.started = parse_time(r.text(i, 3));
      if (!r.is_null(i, 4)) t.finished = parse_time(r.text(i, 4));
      at[t.id] = static_cast<std::size_t>(i);
    }
  }
  if (out.empty()) return out;
  auto each = [&](const std::string& columns, const std::string& table, const std::string& also, auto&& fn) {
    SqlRows r = query("SELECT x.trial_id, " + columns + " FROM " + table + " x JOIN trials t ON t.trial_id = "
                      "x.trial_id WHERE " + where + also);
    for (int i = 0; i < r.size(); ++i)
      if (auto it = at.find(r.integer(i, 0)); it != at.end()) fn(out[it->second], r, i);
  };
  // Trials of one space share one map of definitions, as load_trial's readers expect; each
  // distinct distribution text is parsed once.
  std::map<std::string, std::optional<Parameter>> parsed;
  std::unordered_map<std::int64_t, std::pair<std::string, std::map<std::string, Parameter>>> definitions;
  each("x.param_name, x.param_value, x.distribution_json", "trial_params", "", [&](TrialRecord& t, SqlRows& r, int i) {
    const std::string name = r.text(i, 1);
    t.params[name] = r.real(i, 2).value_or(std::nan(""));
    const std::string key = name + '\n' + r.text(i, 3) + '\n';
    auto found = parsed.find(key);
    if (found == parsed.end()) {
      std::optional<Parameter> p;
      try {
        p = detail::parameter_from_optuna(name, json::parse(r.text(i, 3), nullptr, false));
      } catch (const std::exception&) {
        // a distribution caviar cannot read: the value is shown as the stored number
      }
      found = parsed.emplace(key, std::move(p)).first;
    }
    if (!found->second) return;
    auto& [signature, map] = definitions[t.id];
    signature += key;
    map.emplace(name, *found->second);
  });
  std::map<std::string, std::shared_ptr<const std::map<std::string, Parameter>>> shared;
  for (TrialRecord& t : out) {
    auto d = definitions.find(t.id);
    if (d == definitions.end()) {
      t.parameters = std::make_shared<const std::map<std::string, Parameter>>();
      continue;
    }
    auto& slot = shared[d->second.first];
    if (!slot) slot = std::make_shared<const std::map<std::string, Parameter>>(std::move(d->second.second));
    t.parameters = slot;
  }
  each("x.value, x.value_type", "trial_values", " AND x.objective = 0", [&](TrialRecord& t, SqlRows& r, int i) {
    t.value = value_from_optuna(r.real(i, 1), r.text(i, 2));
  });
  each("x.step, x.intermediate_value, x.intermediate_value_type", "trial_intermediate_values", "",
       [&](TrialRecord& t, SqlRows& r, int i) { t.intermediate[r.integer(i, 1)] = value_from_optuna(r.real(i, 2), r.text(i, 3)); });
  each("x.key, x.value_json", "trial_system_attributes", "", [&](TrialRecord& t, SqlRows& r, int i) {
    t.system_attrs[r.text(i, 1)] = json::parse(r.text(i, 2), nullptr, false);
  });
  each("x.key, x.value_json", "trial_user_attributes", "", [&](TrialRecord& t, SqlRows& r, int i) {
    t.user_attrs[r.text(i, 1)] = json::parse(r.text(i, 2), nullptr, false);
  });
  return out;
}

std::vector<TrialRecord> SqlStorage::load_trials(std::int64_t study_id) {
  SqlRows r = query("SELECT trial_id FROM trials WHERE study_id = ? ORDER BY number, trial_id", {study_id});
  std::vector<TrialRecord> out;
  out.reserve(static_cast<std::size_t>(r.size()));
  for (int i = 0; i < r.size(); ++i) out.push_back(load_trial(r.integer(i, 0)));
  return out;
}

}  // namespace caviar::detail
