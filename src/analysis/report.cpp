// The study report (caviar/report.h): the plots' data, computed here, and the HTML page
// that carries it with plotly.js and web/report.js (web_assets.cpp), which draws it.
#include "caviar/report.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <optional>
#include <set>

#include <fmt/core.h>

#include "analysis/web_assets.h"
#include "caviar/attributes.h"
#include "caviar/error.h"
#include "caviar/export.h"
#include "caviar/importance.h"
#include "caviar/study.h"

namespace caviar {
namespace {

double logit(double x) { return std::log(x / (1 - x)); }

// How a parameter is drawn: the axis type and the map from its value to the plotted one.
enum class Transform { Identity, OneMinus, Logit, Index };

Transform transform_of(const Parameter& p) {
  if (p.type == ParamType::Choice) return Transform::Index;
  if (p.scale == Scale::ReverseLog) return Transform::OneMinus;
  if (p.scale == Scale::Logit) return Transform::Logit;
  return Transform::Identity;
}

const char* transform_name(Transform t) {
  switch (t) {
    case Transform::Identity: return "identity";
    case Transform::OneMinus: return "one_minus";
    case Transform::Logit: return "logit";
    case Transform::Index: return "index";
  }
  return "identity";
}

// The plotted value of a value (internal) of `p`: on a log axis the value itself (Plotly
// takes the log), so the tooltips show real numbers.
double plotted(const Parameter& p, double internal) {
  switch (transform_of(p)) {
    case Transform::OneMinus: return 1 - internal;
    case Transform::Logit: return logit(internal);
    default: return internal;
  }
}

bool log_axis(const Parameter& p) {
  return p.type != ParamType::Choice && (p.scale == Scale::Log || p.scale == Scale::ReverseLog);
}

std::string tick_text(double v) { return fmt::format("{:g}", v); }

// A value as the page shows it: floats to 6 significant digits (a sampled 0.00020702743
// reads better as 0.000207027), ints and choices as they are.
std::string value_text(const Parameter& p, double internal) {
  if (p.type == ParamType::Float) return fmt::format("{:.6g}", internal);
  return p.text(internal);
}

// About five round ticks on [lo, hi] (steps of 1, 2 or 5 times a power of ten).
std::vector<double> linear_ticks(double lo, double hi) {
  double raw = (hi - lo) / 5;
  if (!(raw > 0)) return {lo};
  double power = std::pow(10.0, std::floor(std::log10(raw)));
  double step = power;
  for (double m : {1.0, 2.0, 5.0, 10.0})
    if (m * power >= raw) { step = m * power; break; }
  std::vector<double> out;
  for (double v = std::ceil(lo / step) * step; v <= hi + step * 1e-9; v += step)
    out.push_back(std::abs(v) < step * 1e-9 ? 0.0 : v);
  return out;
}

// Ticks on a log scale within [lo, hi] (0 < lo < hi): the powers of ten, or 1-2-5 steps
// where fewer than two powers fall inside, or the ends.
std::vector<double> log_ticks(double lo, double hi) {
  std::vector<double> out;
  int d0 = static_cast<int>(std::floor(std::log10(lo))), d1 = static_cast<int>(std::ceil(std::log10(hi)));
  auto inside = [&](double v) { return v >= lo * (1 - 1e-9) && v <= hi * (1 + 1e-9); };
  for (int d = d0; d <= d1; ++d)
    if (double v = std::pow(10.0, d); inside(v)) out.push_back(v);
  if (out.size() < 2) {
    out.clear();
    for (int d = d0; d <= d1; ++d)
      for (double m : {1.0, 2.0, 5.0})
        if (double v = m * std::pow(10.0, d); inside(v)) out.push_back(v);
  }
  if (out.size() < 2) out = {lo, hi};
  return out;
}

// The axis of one parameter (see report.h for the fields).
json param_axis(const Parameter& p) {
  Transform t = transform_of(p);
  json axis = {{"name", p.name}, {"label", p.name}, {"type", to_string(p.type)},
               {"scale", to_string(p.scale)}, {"transform", transform_name(t)}};
  std::vector<double> vals;  // ticks in linear units (what parcoords and logit axes use)
  std::vector<std::string> text;
  if (t == Transform::Index) {
    axis["axis"] = "category";
    for (std::size_t i = 0; i < p.choices.size(); ++i) {
      vals.push_back(static_cast<double>(i));
      text.push_back(p.choices[i].is_string() ? p.choices[i].get<std::string>() : p.choices[i].dump());
    }
    axis["range"] = {-0.5, static_cast<double>(p.choices.size()) - 0.5};
  } else if (log_axis(p)) {
    axis["axis"] = "log";
    double lo = p.low, hi = p.high;
    if (t == Transform::OneMinus) {
      lo = 1 - p.high, hi = 1 - p.low;
      axis["label"] = "1 − " + p.name;
    }
    axis["range"] = {std::log10(lo), std::log10(hi)};
    for (double v : log_ticks(lo, hi)) vals.push_back(std::log10(v)), text.push_back(tick_text(v));
  } else if (t == Transform::Logit) {
    axis["axis"] = "linear";
    axis["range"] = {logit(p.low), logit(p.high)};
    std::vector<double> candidates = {0.001, 0.01, 0.05, 0.1, 0.25, 0.5, 0.75, 0.9, 0.95, 0.99, 0.999};
    for (double v : candidates)
      if (v >= p.low && v <= p.high) vals.push_back(logit(v)), text.push_back(tick_text(v));
    if (vals.size() < 2) {
      vals = {logit(p.low), logit(p.high)};
      text = {tick_text(p.low), tick_text(p.high)};
    }
  } else {
    axis["axis"] = "linear";
    axis["range"] = {p.low, p.high};
    for (double v : linear_ticks(p.low, p.high)) vals.push_back(v), text.push_back(tick_text(v));
  }
  axis["ticks"] = {{"vals", vals}, {"text", text}};
  return axis;
}

// A zoom box's range of one parameter, in plotted units: {"range": [lo, hi]} for numbers,
// {"values": [indices]} for choices; nullopt if the entry does not fit the parameter.
std::optional<json> zoom_range(const Parameter& p, const json& entry) {
  if (!entry.is_object()) return std::nullopt;
  if (p.type == ParamType::Choice) {
    if (!entry.contains("values") || !entry["values"].is_array()) return std::nullopt;
    std::vector<int> kept;
    for (const auto& v : entry["values"])
      for (std::size_t i = 0; i < p.choices.size(); ++i)
        if (p.choices[i] == v) kept.push_back(static_cast<int>(i));
    std::sort(kept.begin(), kept.end());
    return json{{"values", kept}};
  }
  if (!entry.contains("low") || !entry.contains("high") || !entry["low"].is_number() ||
      !entry["high"].is_number())
    return std::nullopt;
  double a = plotted(p, entry["low"].get<double>()), b = plotted(p, entry["high"].get<double>());
  if (!std::isfinite(a) || !std::isfinite(b)) return std::nullopt;
  return json{{"range", {std::min(a, b), std::max(a, b)}}};
}

// The zoom sampler's rounds (study attribute "caviar:zoom"), in plotted units. A missing
// or unreadable attribute gives no rounds: the report draws no boxes.
json zoom_rounds(const json& study_attrs, const SearchSpace& space) {
  json out = json::array();
  auto it = study_attrs.find(attr::kZoom);
  if (it == study_attrs.end() || !it->is_object() || !it->contains("rounds") ||
      !(*it)["rounds"].is_array())
    return out;
  for (const auto& round : (*it)["rounds"]) {
    if (!round.is_object() || !round.contains("box") || !round["box"].is_object()) continue;
    json box = json::object();
    for (const auto& [name, entry] : round["box"].items())
      if (const Parameter* p = space.find(name))
        if (auto r = zoom_range(*p, entry)) box[name] = *r;
    out.push_back({{"round", round.value("round", static_cast<int>(out.size()) + 1)},
                   {"first_trial", round.value("first_trial", 0)},
                   {"box", box}});
  }
  return out;
}

// fANOVA importance (caviar/importance.h), or the reason there is none.
struct ImportanceResult {
  std::optional<Importance> importance;
  std::string note;
};

ImportanceResult measure_importance(const SearchSpace& space, const std::vector<TrialRecord>& trials,
                                    Direction direction) {
  ImportanceResult out;
  if (space.size() < 2) {
    out.note = fmt::format("Importance needs two parameters or more; this study has {}.", space.size());
    return out;
  }
  try {
    out.importance = importance(space, trials, direction);
  } catch (const Error& e) {
    out.note = fmt::format("Importance could not be measured: {}", e.what());
  }
  return out;
}

std::string html_escape(const std::string& s) {
  std::string out;
  out.reserve(s.size());
  for (char c : s) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&#39;"; break;
      default: out += c;
    }
  }
  return out;
}

// JSON inside <script type="application/json">: '<' only occurs inside strings, where
// \u003c means the same, so no "</script>" or "<!--" can end the element early.
std::string script_json(const json& data) {
  std::string text = data.dump();
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    if (c == '<') out += "\\u003c";
    else out += c;
  }
  return out;
}

constexpr const char* kStyle = R"css(
body { font-family: system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; margin: 0 auto;
       max-width: 1280px; padding: 0 20px 40px; color: #222; background: #fff; }
h1 { font-size: 1.5em; margin: 0.8em 0 0.2em; }
h2 { font-size: 1.2em; margin: 1.6em 0 0.2em; border-bottom: 1px solid #ddd; padding-bottom: 0.2em; }
p.how { color: #555; margin: 0.2em 0 0.6em; max-width: 60em; }
p.note { background: #fff6e0; border-left: 4px solid #e0a000; padding: 0.5em 0.8em; }
table.summary { border-collapse: collapse; margin: 0.6em 0; }
table.summary td { padding: 2px 14px 2px 0; vertical-align: top; }
table.summary td:first-child { color: #555; }
.grid { display: grid; grid-template-columns: repeat(auto-fill, minmax(420px, 1fr)); gap: 8px; }
.plot-error { color: #b00020; }
footer { color: #888; font-size: 0.85em; margin-top: 3em; }
)css";

}  // namespace

json report_data(const StudyRecord& study, const SearchSpace& space,
                 const std::vector<TrialRecord>& trials, const ReportOptions& options) {
  if (options.top < 1) throw ConfigError("top", fmt::format("must be at least 1, not {}", options.top));
  json data;
  data["study"] = study.name;
  data["direction"] = to_string(study.direction);
  data["metric"] = options.metric.empty() ? "value" : options.metric;

  json params = json::array();
  for (const auto& p : space.params()) params.push_back(param_axis(p));
  data["params"] = params;

  std::vector<const TrialRecord*> sorted;
  for (const auto& t : trials) sorted.push_back(&t);
  std::sort(sorted.begin(), sorted.end(), [](auto* a, auto* b) { return a->number < b->number; });

  std::map<std::string, int> counts;
  for (TrialState s : {TrialState::Complete, TrialState::Pruned, TrialState::Failed,
                       TrialState::Running, TrialState::Waiting})
    counts[to_string(s)] = 0;
  json rows = json::array();
  json history = {{"number", json::array()}, {"value", json::array()}, {"best", json::array()}};
  const TrialRecord* best = nullptr;
  for (const TrialRecord* t : sorted) {
    ++counts[to_string(t->state)];
    json x = json::object(), text = json::object();
    for (const auto& p : space.params()) {
      auto it = t->params.find(p.name);
      if (it == t->params.end()) continue;
      double internal = it->second;
      if (p.type == ParamType::Choice &&
          (internal < 0 || internal >= static_cast<double>(p.choices.size()) || internal != std::floor(internal)))
        continue;  // not a value of this space (the space changed since)
      double v = plotted(p, internal);
      if (!std::isfinite(v)) continue;
      x[p.name] = v;
      text[p.name] = value_text(p, internal);
    }
    json curve = json::array();
    for (const auto& [step, v] : t->intermediate)
      if (std::isfinite(v)) curve.push_back({step, v});
    bool finite = t->value && std::isfinite(*t->value);
    rows.push_back({{"number", t->number}, {"state", to_string(t->state)},
                    {"value", finite ? json(*t->value) : json(nullptr)}, {"x", x},
                    {"text", text}, {"curve", curve}});
    if (rankable(*t)) {
      if (!best || better(study.direction, *t->value, *best->value)) best = t;
      history["number"].push_back(t->number);
      history["value"].push_back(*t->value);
      history["best"].push_back(*best->value);
    }
  }
  data["trials"] = rows;
  data["counts"] = counts;
  data["history"] = history;
  if (best) {
    json text = json::object();
    for (const auto& p : space.params())
      if (auto it = best->params.find(p.name); it != best->params.end()) text[p.name] = value_text(p, it->second);
    data["best"] = {{"number", best->number}, {"value", *best->value}, {"params", text}};
  } else {
    data["best"] = nullptr;
  }

  // The most important parameters first (all of them in the space's order without an
  // importance), then the pairs among the first `top`.
  std::vector<std::string> order;
  data["importance"] = nullptr;
  data["importance_note"] = "";
  if (best) {
    ImportanceResult imp = measure_importance(space, trials, study.direction);
    if (imp.importance) {
      json j = {{"trials_used", imp.importance->trials_used}, {"params", json::array()},
                {"pairs", json::array()}};
      for (const auto& p : imp.importance->params) {
        if (!space.find(p.name)) continue;
        j["params"].push_back({{"name", p.name}, {"share", p.share}});
        order.push_back(p.name);
      }
      for (const auto& p : imp.importance->pairs)
        j["pairs"].push_back({{"first", p.first}, {"second", p.second}, {"share", p.share}});
      data["importance"] = j;
    } else {
      data["importance_note"] = imp.note;
    }
  }
  for (const auto& p : space.params())
    if (std::find(order.begin(), order.end(), p.name) == order.end()) order.push_back(p.name);
  if (order.size() > static_cast<std::size_t>(options.top)) order.resize(options.top);
  data["top"] = order;
  json pairs = json::array();
  for (std::size_t i = 0; i < order.size(); ++i)
    for (std::size_t j = i + 1; j < order.size(); ++j) pairs.push_back({order[i], order[j]});
  data["pairs"] = pairs;
  data["zoom"] = zoom_rounds(study.system_attrs, space);
  data["babysit"] = babysit_tree(trials, study.system_attrs, study.direction);
  data["retune"] = options.retuned_from
                       ? retune_verdict_data(*options.retuned_from, ComparedStudy{study, space, trials})
                       : json(nullptr);
  return data;
}

// What the trials printed besides the metric (the "caviar:metrics" attribute), at each
// one's last step: a table of the best trials (at most 20 rows, 12 names), or "" if none
// printed anything.
static std::string printed_metrics_table(const std::vector<TrialRecord>& trials, Direction direction) {
  std::vector<const TrialRecord*> rows;
  for (const auto& t : trials)
    if (!t.last_metrics().empty()) rows.push_back(&t);
  if (rows.empty()) return "";
  std::stable_sort(rows.begin(), rows.end(), [&](const TrialRecord* a, const TrialRecord* b) {
    if (rankable(*a) != rankable(*b)) return rankable(*a);
    return rankable(*a) && better(direction, *a->value, *b->value);
  });
  const std::size_t shown = std::min<std::size_t>(rows.size(), 20);
  std::vector<std::string> names;
  for (std::size_t i = 0; i < shown; ++i)
    for (const auto& [name, v] : rows[i]->last_metrics())
      if (std::find(names.begin(), names.end(), name) == names.end() && names.size() < 12) names.push_back(name);
  std::string html = fmt::format(
      "<h2>What the trials printed</h2>\n<p class=\"note\">Every <code>name=value</code> of each trial's "
      "last step (all steps: <code>caviar export</code>), the best {} of {} trials.</p>\n"
      "<table class=\"summary\" id=\"printed-metrics\">\n<tr><th>#</th><th>state</th><th>value</th>",
      shown, rows.size());
  for (const auto& n : names) html += "<th>" + html_escape(n) + "</th>";
  html += "</tr>\n";
  for (std::size_t i = 0; i < shown; ++i) {
    const TrialRecord& t = *rows[i];
    const auto values = t.last_metrics();
    html += fmt::format("<tr><td>{}</td><td>{}</td><td>{}</td>", t.number, to_string(t.state),
                        t.value ? fmt::format("{:.6g}", *t.value) : "-");
    for (const auto& n : names) {
      auto it = values.find(n);
      html += "<td>" + (it == values.end() ? std::string("-") : fmt::format("{:.6g}", it->second)) + "</td>";
    }
    html += "</tr>\n";
  }
  return html + "</table>\n";
}

std::string html_report(const StudyRecord& study, const SearchSpace& space,
                        const std::vector<TrialRecord>& trials, const ReportOptions& options) {
  json data = report_data(study, space, trials, options);
  std::string title = options.title.empty() ? "caviar: " + study.name : options.title;
  const json& counts = data["counts"];

  std::string summary;
  auto row = [&](const std::string& key, const std::string& value) {
    summary += fmt::format("<tr><td>{}</td><td>{}</td></tr>\n", html_escape(key), html_escape(value));
  };
  row("study", study.name);
  row("direction", fmt::format("{} {}", to_string(study.direction), data["metric"].get<std::string>()));
  row("trials", fmt::format("{} complete, {} pruned, {} failed, {} running, {} waiting",
                            counts["complete"].get<int>(), counts["pruned"].get<int>(),
                            counts["failed"].get<int>(), counts["running"].get<int>(),
                            counts["waiting"].get<int>()));
  if (!data["best"].is_null()) {
    const json& b = data["best"];
    std::string params;
    for (const auto& [name, v] : b["params"].items())
      params += (params.empty() ? "" : ", ") + name + " = " + v.get<std::string>();
    row("best", fmt::format("trial #{}: {} = {:.6g}", b["number"].get<int>(),
                            data["metric"].get<std::string>(), b["value"].get<double>()));
    row("best parameters", params.empty() ? "(none)" : params);
  }

  std::string html;
  std::string_view plotly = detail::plotly_js(), script = detail::report_js();
  html.reserve(plotly.size() + script.size() + 65536);
  html += "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n";
  html += "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n";
  html += "<meta name=\"generator\" content=\"caviar report\">\n";
  html += fmt::format("<title>{}</title>\n<style>{}</style>\n", html_escape(title), kStyle);
  html += "<script>\n";
  html += plotly;
  html += "\n</script>\n</head>\n<body>\n";
  html += fmt::format("<h1>{}</h1>\n<table class=\"summary\">\n{}</table>\n", html_escape(title), summary);
  if (data["best"].is_null())
    html += "<p class=\"note\" id=\"no-complete\">No trial has completed yet, so there is no value "
            "to plot against the parameters. Run the study (caviar tune) and write the report again.</p>\n";
  html += "<div id=\"caviar-report\"></div>\n";
  html += printed_metrics_table(trials, study.direction);
  html += "<noscript><p class=\"note\">The plots need JavaScript.</p></noscript>\n";
  html += "<footer>Written by caviar report. Plots drawn with plotly.js (MIT licence), "
          "built into this file: it opens offline.</footer>\n";
  html += "<script type=\"application/json\" id=\"caviar-data\">";
  html += script_json(data);
  html += "</script>\n<script>\n";
  html += script;
  html += "\n</script>\n</body>\n</html>\n";
  return html;
}

}  // namespace caviar
