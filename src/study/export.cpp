#include "caviar/export.h"

#include <algorithm>
#include <set>

#include <fmt/core.h>

#include "base/format.h"
#include "caviar/attributes.h"

namespace caviar {
namespace {

std::string value_text(const json& v) {
  if (v.is_string()) return v.get<std::string>();
  if (v.is_number_float()) return detail::shortest(v.get<double>());
  return v.dump();
}

// A cell of at most `limit` bytes: cut at a character boundary, with "..." if cut.
std::string clip_cell(const std::string& s, std::size_t limit) {
  if (s.size() <= limit) return s;
  std::size_t cut = limit - 3;
  while (cut > 0 && (static_cast<unsigned char>(s[cut]) & 0xC0) == 0x80) --cut;
  return s.substr(0, cut) + "...";
}

std::string csv_field(const std::string& s) {
  if (s.find_first_of(",\"\n") == std::string::npos) return s;
  std::string out = "\"";
  for (char c : s) out += c == '"' ? std::string("\"\"") : std::string(1, c);
  return out + "\"";
}

}  // namespace

json trial_to_json(const TrialRecord& t) {
  json params = json::object();
  for (const auto& [name, internal] : t.params) params[name] = t.user_value(name);
  json intermediate = json::object();
  for (const auto& [step, v] : t.intermediate) intermediate[std::to_string(step)] = v;
  std::string reason = t.reason();
  auto metrics = t.system_attrs.find(attr::kMetrics);
  return {{"number", t.number},
          {"state", to_string(t.state)},
          {"params", params},
          {"value", t.value ? json(*t.value) : json(nullptr)},
          {"intermediate", intermediate},
          {"started", t.started ? json(detail::format_time(*t.started)) : json(nullptr)},
          {"finished", t.finished ? json(detail::format_time(*t.finished)) : json(nullptr)},
          {"duration_s", t.started ? json(t.duration_seconds()) : json(nullptr)},
          {"reason", reason.empty() ? json(nullptr) : json(reason)},
          {"metrics", metrics != t.system_attrs.end() && metrics->is_object() ? *metrics : json::object()},
          {"system_attrs", t.system_attrs}};
}

std::string params_text(const TrialRecord& t) {
  std::string out;
  for (const auto& [name, internal] : t.params) {
    json v = t.user_value(name);
    std::string text = v.is_number_float() ? fmt::format("{:.4g}", v.get<double>()) : value_text(v);
    out += fmt::format("{}{}={}", out.empty() ? "" : ", ", name, text);
  }
  return out;
}

std::string trials_to_csv(const std::vector<TrialRecord>& trials) {
  std::set<std::string> names;
  for (const auto& t : trials)
    for (const auto& [name, v] : t.params) names.insert(name);
  std::set<std::string> metric_names;  // what trials printed at their last step
  for (const auto& t : trials)
    for (const auto& [name, v] : t.last_metrics()) metric_names.insert(name);
  std::string out = "number,state,value,duration_s";
  for (const auto& n : names) out += ",params_" + csv_field(n);
  for (const auto& n : metric_names) out += ",metrics_" + csv_field(n);
  out += ",reason\n";
  for (const auto& t : trials) {
    out += fmt::format("{},{},{},{}", t.number, to_string(t.state),
                       t.value ? detail::shortest(*t.value) : "",
                       t.started ? fmt::format("{:.3f}", t.duration_seconds()) : "");
    for (const auto& n : names) {
      auto it = t.params.find(n);
      out += ",";
      if (it != t.params.end()) out += csv_field(value_text(t.user_value(n)));
    }
    const auto metrics = t.last_metrics();
    for (const auto& n : metric_names) {
      auto it = metrics.find(n);
      out += ",";
      if (it != metrics.end()) out += detail::shortest(it->second);
    }
    out.append(",").append(csv_field(t.reason())).append("\n");
  }
  return out;
}

std::string trials_to_table(const std::vector<TrialRecord>& trials) {
  bool any_metrics = false;
  for (const auto& t : trials) any_metrics = any_metrics || !t.last_metrics().empty();
  std::vector<std::vector<std::string>> rows = {{"#", "state", "value", "seconds", "params"}};
  if (any_metrics) rows[0].push_back("printed (last step)");
  rows[0].push_back("note");
  for (const auto& t : trials) {
    std::vector<std::string> row = {std::to_string(t.number), to_string(t.state),
                                    t.value ? fmt::format("{:.6g}", *t.value) : "-",
                                    t.started ? fmt::format("{:.1f}", t.duration_seconds()) : "-",
                                    params_text(t)};
    if (any_metrics) {
      std::string printed;
      for (const auto& [name, v] : t.last_metrics())
        printed += fmt::format("{}{}={:.4g}", printed.empty() ? "" : ", ", name, v);
      row.push_back(clip_cell(printed, 80));
    }
    std::string note = t.reason_line();
    if (auto again = t.system_attrs.find(attr::kRerunAs); again != t.system_attrs.end() && again->is_number())
      note = fmt::format("[run again as #{}] {}", again->get<int>(), note);
    row.push_back(clip_cell(note, 160));
    rows.push_back(std::move(row));
  }
  return aligned_table(rows);
}

std::string aligned_table(const std::vector<std::vector<std::string>>& rows) {
  std::vector<std::size_t> width;
  for (const auto& r : rows) {
    width.resize(std::max(width.size(), r.size()), 0);
    for (std::size_t i = 0; i < r.size(); ++i) width[i] = std::max(width[i], r[i].size());
  }
  std::string out;
  for (const auto& r : rows) {
    std::string line;
    for (std::size_t i = 0; i < r.size(); ++i)
      line += (i ? "  " : "") + r[i] + (i + 1 < r.size() ? std::string(width[i] - r[i].size(), ' ') : "");
    while (!line.empty() && line.back() == ' ') line.pop_back();
    out += line + "\n";
  }
  return out;
}

}  // namespace caviar
