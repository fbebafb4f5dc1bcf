// The lineage of PBT's members and of a babysat model, as JSON and as tables
// (include/caviar/export.h).
#include <algorithm>
#include <cmath>
#include <map>

#include <fmt/core.h>

#include "base/format.h"
#include "caviar/attributes.h"
#include "caviar/babysit.h"
#include "caviar/export.h"
#include "caviar/pbt.h"

namespace caviar {

json pbt_lineage(const std::vector<TrialRecord>& trials) {
  std::map<std::int64_t, std::vector<const TrialRecord*>> members;
  for (const auto& t : trials)
    if (const json* l = pbt_lineage_of(t)) members[lineage_int(*l, "member")].push_back(&t);
  json out = json::array();
  for (auto& [member, chain] : members) {
    std::sort(chain.begin(), chain.end(), [](auto* a, auto* b) { return a->number < b->number; });
    json rows = json::array();
    for (const TrialRecord* t : chain) {
      const json& l = *pbt_lineage_of(*t);
      json params = json::object();
      for (const auto& [name, internal] : t->params) params[name] = t->user_value(name);
      rows.push_back({{"number", t->number},
                      {"state", to_string(t->state)},
                      {"value", t->value ? json(*t->value) : json(nullptr)},
                      {"segment", l.value("segment", json(nullptr))},
                      {"step", l.value("step", json(nullptr))},
                      {"stop", l.value("stop", json(nullptr))},
                      {"parent_trial", l.value("parent_trial", json(nullptr))},
                      {"donor_trial", l.value("donor_trial", json(nullptr))},
                      {"donor_member", l.value("donor_member", json(nullptr))},
                      {"rank", l.value("rank", json(nullptr))},
                      {"ranked", l.value("ranked", json(nullptr))},
                      {"changes", l.value("changes", json::object())},
                      {"rerun_of", l.value("rerun_of", json(nullptr))},
                      {"params", params}});
    }
    out.push_back({{"member", member}, {"trials", rows}});
  }
  return out;
}

std::string pbt_lineage_table(const std::vector<TrialRecord>& trials) {
  auto text = [](const json& v) {
    if (v.is_null()) return std::string("-");
    if (v.is_string()) return v.get<std::string>();
    if (v.is_number_float()) return fmt::format("{:.4g}", v.get<double>());
    return v.dump();
  };
  std::vector<std::vector<std::string>> rows = {{"member", "seg", "#", "steps", "state", "value", "origin"}};
  for (const json& member : pbt_lineage(trials)) {
    for (const json& t : member["trials"]) {
      std::string origin;
      if (t["parent_trial"].is_null()) {
        origin = "sampled";
      } else if (t["donor_trial"].is_null()) {
        origin = fmt::format("continued #{}", text(t["parent_trial"]));
      } else {
        origin = fmt::format("copied member {} (#{}), rank {}/{}", text(t["donor_member"]), text(t["donor_trial"]),
                             text(t["rank"]), text(t["ranked"]));
        std::string changed;
        for (const auto& [name, pair] : t["changes"].items())
          changed += fmt::format("{}{} {} -> {}", changed.empty() ? ": " : ", ", name, text(pair[0]), text(pair[1]));
        origin += changed;
      }
      if (!t["rerun_of"].is_null()) origin += fmt::format(" (rerun of #{})", text(t["rerun_of"]));
      rows.push_back({text(member["member"]), text(t["segment"]), text(t["number"]),
                      fmt::format("{}-{}", lineage_int(t, "step") + 1, text(t["stop"])), text(t["state"]),
                      t["value"].is_null() ? "-" : fmt::format("{:.6g}", t["value"].get<double>()), origin});
    }
  }
  return aligned_table(rows);
}

}  // namespace caviar

namespace caviar {
namespace {

json or_null(const std::optional<double>& v) { return v ? json(*v) : json(nullptr); }

}  // namespace

json babysit_tree(const std::vector<TrialRecord>& trials, const json& study_system_attrs, Direction direction) {
  const BabysitRun run = babysit_run(trials);
  if (run.segments.empty()) return nullptr;
  json segments = json::array();
  std::map<std::string, int> applied_by;
  std::optional<std::size_t> best_day;  // an index: `segments` grows
  std::optional<double> best_test;
  const TrialRecord* best_value = nullptr;
  for (const TrialRecord* t : run.segments) {
    const json& l = *babysit_lineage_of(*t);
    json params = json::object();
    for (const auto& [name, internal] : t->params) params[name] = t->user_value(name);
    const std::optional<double> test = segment_test_acc(*t);
    if (auto c = l.find("controls"); c != l.end() && c->is_array())
      for (const json& id : *c)
        if (id.is_string()) applied_by.emplace(id.get<std::string>(), t->number);
    json points = json::array();  // what it reported, [step, value]
    for (const auto& [step, v] : t->intermediate)
      if (std::isfinite(v)) points.push_back({step, v});
    segments.push_back({{"number", t->number},
                        {"state", to_string(t->state)},
                        {"value", or_null(t->value)},
                        {"step", l.value("step", json(nullptr))},
                        {"stop", l.value("stop", json(nullptr))},
                        {"branch", l.value("branch", json(0))},
                        {"parent_trial", l.value("parent_trial", json(nullptr))},
                        {"restore_trial", l.value("restore_trial", json(nullptr))},
                        {"origin", l.value("origin", json(""))},
                        {"changes", l.value("changes", json::object())},
                        {"note", l.value("note", json(""))},
                        {"rejected", l.value("rejected", json::array())},
                        {"rerun_of", l.value("rerun_of", json(nullptr))},
                        {"reason", t->reason_line()},
                        {"test_acc", or_null(test)},
                        {"ended", t->finished ? json(detail::format_time(*t->finished, true)) : json(nullptr)},
                        {"params", params},
                        {"points", points}});
    if (t->state != TrialState::Complete) continue;
    if (test && (!best_test || *test > *best_test)) {
      best_test = test;
      best_day = segments.size() - 1;
    }
    if (rankable(*t) && (!best_value || better(direction, *t->value, *best_value->value))) best_value = t;
  }
  json best = nullptr;
  if (best_day) {
    best = segments[*best_day];
  } else if (best_value) {
    for (const json& s : segments)
      if (s["number"] == best_value->number) best = s;
  }
  json curve = json::array();
  for (const BabysitPoint& p : run.curve)
    curve.push_back({{"step", p.step},
                     {"trial", p.trial},
                     {"value", or_null(p.value)},
                     {"train_loss", or_null(p.train_loss)},
                     {"val_loss", or_null(p.val_loss)},
                     {"val_acc", or_null(p.val_acc)},
                     {"test_acc", or_null(p.test_acc)},
                     {"time", p.time}});
  json controls = json::array();
  for (const BabysitControl& c : babysit_controls(study_system_attrs)) {
    json row = babysit_control_json(c);
    auto it = applied_by.find(c.id);
    row["applied_by"] = it == applied_by.end() ? json(nullptr) : json(it->second);
    row["waiting"] = it == applied_by.end() && (c.action == "set" || c.action == "rollback");
    controls.push_back(row);
  }
  const auto paused = babysit_paused_since(babysit_controls(study_system_attrs));
  return {{"segments", segments}, {"curve", curve},           {"best_day", best},
          {"controls", controls}, {"paused_since", paused ? json(*paused) : json(nullptr)}};
}

std::string babysit_tree_table(const json& tree) {
  auto text = [](const json& v) {
    if (v.is_null()) return std::string("-");
    if (v.is_string()) return v.get<std::string>();
    if (v.is_number_float()) return fmt::format("{:.4g}", v.get<double>());
    return v.dump();
  };
  std::vector<std::vector<std::string>> rows = {{"branch", "#", "steps", "state", "value", "test", "ended", "origin"}};
  if (!tree.is_object()) return aligned_table(rows);
  for (const json& s : tree["segments"]) {
    std::string origin = text(s["origin"]);
    const std::string from = s["restore_trial"].is_null() ? "scratch" : "#" + text(s["restore_trial"]);
    if (origin == "rollback") origin = fmt::format("rollback to step {} ({})", text(s["step"]), from);
    std::string changed;
    for (const auto& [name, pair] : s["changes"].items())
      changed += fmt::format("{}{} {} -> {}", changed.empty() ? ": " : ", ", name, text(pair[0]), text(pair[1]));
    origin += changed;
    if (!s["note"].get<std::string>().empty()) origin += " (" + s["note"].get<std::string>() + ")";
    if (!s["rerun_of"].is_null()) origin += fmt::format(" (rerun of #{})", text(s["rerun_of"]));
    if (s["state"] == "failed" && !s["reason"].get<std::string>().empty()) origin += "; failed: " + text(s["reason"]);
    const std::string ended = s["ended"].is_string() ? s["ended"].get<std::string>().substr(0, 16) : "-";
    rows.push_back({std::string(static_cast<std::size_t>(2 * s["branch"].get<int>()), ' ') + text(s["branch"]),
                    text(s["number"]), fmt::format("{}-{}", s["step"].get<std::int64_t>() + 1, text(s["stop"])),
                    text(s["state"]), s["value"].is_null() ? "-" : fmt::format("{:.6g}", s["value"].get<double>()),
                    s["test_acc"].is_null() ? "-" : fmt::format("{:.4f}", s["test_acc"].get<double>()), ended,
                    origin});
  }
  return aligned_table(rows);
}

}  // namespace caviar
