// The lineage of PBT's members, as JSON and as a table (include/caviar/export.h).
#include <algorithm>
#include <map>

#include <fmt/core.h>

#include "caviar/export.h"
#include "caviar/pbt.h"

namespace caviar {

json pbt_lineage(const std::vector<TrialRecord>& trials) {
  std::map<std::int64_t, std::vector<const TrialRecord*>> members;
  for (const auto& t : trials)
    if (const json* l = pbt_lineage_of(t)) members[pbt_lineage_int(*l, "member")].push_back(&t);
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
                      fmt::format("{}-{}", pbt_lineage_int(t, "step") + 1, text(t["stop"])), text(t["state"]),
                      t["value"].is_null() ? "-" : fmt::format("{:.6g}", t["value"].get<double>()), origin});
    }
  }
  return aligned_table(rows);
}

}  // namespace caviar
