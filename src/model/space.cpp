#include "caviar/space.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <set>

#include <fmt/core.h>
#include <fmt/ranges.h>

#include "caviar/error.h"
#include "base/format.h"

namespace caviar {

const char* to_string(ParamType type) {
  switch (type) {
    case ParamType::Float: return "float";
    case ParamType::Int: return "int";
    case ParamType::Choice: return "choice";
  }
  return "?";
}

const char* to_string(Scale scale) {
  switch (scale) {
    case Scale::Linear: return "linear";
    case Scale::Log: return "log";
    case Scale::ReverseLog: return "reverse_log";
    case Scale::Logit: return "logit";
  }
  return "?";
}

namespace {

std::string trim(std::string s) {
  auto not_space = [](unsigned char c) { return !std::isspace(c); };
  s.erase(s.begin(), std::find_if(s.begin(), s.end(), not_space));
  s.erase(std::find_if(s.rbegin(), s.rend(), not_space).base(), s.end());
  if (s.size() >= 2 && (s.front() == '\'' || s.front() == '"') && s.back() == s.front())
    s = s.substr(1, s.size() - 2);
  return s;
}

// The scale's transform g and its inverse; sampling is uniform in g.
double forward(Scale scale, double x) {
  switch (scale) {
    case Scale::Linear: return x;
    case Scale::Log: return std::log(x);
    case Scale::ReverseLog: return -std::log1p(-x);
    case Scale::Logit: return std::log(x / (1 - x));
  }
  return x;
}

double inverse(Scale scale, double y) {
  switch (scale) {
    case Scale::Linear: return y;
    case Scale::Log: return std::exp(y);
    case Scale::ReverseLog: return -std::expm1(-y);
    case Scale::Logit: return 1 / (1 + std::exp(-y));
  }
  return y;
}

std::string choice_text(const json& v) {
  if (v.is_string()) return v.get<std::string>();
  if (v.is_number_float()) return detail::shortest(v.get<double>());
  return v.dump();
}

}  // namespace

// ---- Condition --------------------------------------------------------------------------

Condition Condition::parse(const std::string& text, const std::string& where) {
  Condition c;
  c.text = text;
  auto fail = [&] {
    throw ConfigError(where, fmt::format("cannot read condition '{}'; write \"name == value\", "
                                         "\"name != value\" or \"name in [a, b]\"", text));
  };
  std::size_t pos;
  if ((pos = text.find("==")) != std::string::npos) {
    c.op = Op::Equal;
    c.param = trim(text.substr(0, pos));
    c.values = {trim(text.substr(pos + 2))};
  } else if ((pos = text.find("!=")) != std::string::npos) {
    c.op = Op::NotEqual;
    c.param = trim(text.substr(0, pos));
    c.values = {trim(text.substr(pos + 2))};
  } else if ((pos = text.find(" in ")) != std::string::npos) {
    c.op = Op::In;
    c.param = trim(text.substr(0, pos));
    std::string list = trim(text.substr(pos + 4));
    if (list.size() < 2 || list.front() != '[' || list.back() != ']') fail();
    list = list.substr(1, list.size() - 2);
    std::size_t start = 0;
    while (start <= list.size()) {
      std::size_t comma = list.find(',', start);
      if (comma == std::string::npos) comma = list.size();
      std::string item = trim(list.substr(start, comma - start));
      if (!item.empty()) c.values.push_back(item);
      start = comma + 1;
    }
  } else {
    fail();
  }
  if (c.param.empty() || c.values.empty() || c.values.front().empty()) fail();
  return c;
}

bool Condition::holds(const std::string& value) const {
  bool found = std::find(values.begin(), values.end(), value) != values.end();
  return op == Op::NotEqual ? !found : found;
}

// ---- Parameter --------------------------------------------------------------------------

namespace {
// Bounds, in the scale's coordinates, of the interval that maps onto [0, 1]. For discrete
// values each value owns a cell of width `step` centred on it.
std::pair<double, double> unit_bounds(const Parameter& p) {
  double lo = p.low, hi = p.high;
  if (p.step) lo -= *p.step / 2, hi += *p.step / 2;
  return {forward(p.scale, lo), forward(p.scale, hi)};
}
}  // namespace

void Parameter::validate(const std::string& where) const {
  if (name.empty()) throw ConfigError(where, "a parameter needs a name");
  if (type == ParamType::Choice) {
    if (choices.empty()) throw ConfigError(where + ".values", "the list of choices is empty");
    std::set<std::string> seen;
    for (const auto& c : choices) {
      if (!(c.is_string() || c.is_number() || c.is_boolean() || c.is_null()))
        throw ConfigError(where + ".values", "choices must be numbers, strings or booleans");
      if (!seen.insert(choice_text(c)).second)
        throw ConfigError(where + ".values", fmt::format("'{}' is listed twice", choice_text(c)));
    }
    if (scale != Scale::Linear) throw ConfigError(where + ".scale", "a choice has no scale");
    return;
  }
  if (!std::isfinite(low) || !std::isfinite(high))
    throw ConfigError(where, "low and high must be finite numbers");
  if (!(low < high))
    throw ConfigError(where, fmt::format("low ({}) must be less than high ({})",
                                         detail::shortest(low), detail::shortest(high)));
  if (type == ParamType::Int) {
    if (low != std::floor(low) || high != std::floor(high))
      throw ConfigError(where, "an int parameter needs integer low and high");
    if (std::abs(low) > 0x1p53 || std::abs(high) > 0x1p53)
      throw ConfigError(where, "an int parameter's low and high are at most 2^53 (whole numbers a double holds)");
    if (step && (*step < 1 || *step != std::floor(*step)))
      throw ConfigError(where + ".step", "an int step must be a positive integer");
    if (scale == Scale::ReverseLog || scale == Scale::Logit)
      throw ConfigError(where + ".scale",
                        fmt::format("{} needs values in (0, 1); use a float", to_string(scale)));
    if (scale == Scale::Log && step && *step != 1)
      throw ConfigError(where + ".step", "a log-scale int takes step 1");
  }
  if (step) {
    if (!(*step > 0) || !std::isfinite(*step))
      throw ConfigError(where + ".step", "step must be a positive number");
    double cells = (high - low) / *step;
    if (std::abs(cells - std::round(cells)) > 1e-9 * std::max(1.0, cells))
      throw ConfigError(where + ".step",
                        fmt::format("high - low ({}) is not a multiple of step ({})",
                                    detail::shortest(high - low), detail::shortest(*step)));
    if (type == ParamType::Float && scale != Scale::Linear)
      throw ConfigError(where + ".step", fmt::format("a {} float cannot have a step", to_string(scale)));
  }
  switch (scale) {
    case Scale::Linear: break;
    case Scale::Log:
      if (!(low > 0))
        throw ConfigError(where + ".low", fmt::format("log scale needs low > 0, got {}",
                                                      detail::shortest(low)));
      break;
    case Scale::ReverseLog:
      if (!(high < 1))
        throw ConfigError(where + ".high",
                          fmt::format("reverse_log samples log(1 - x) and needs high < 1, got {}",
                                      detail::shortest(high)));
      break;
    case Scale::Logit:
      if (!(low > 0) || !(high < 1))
        throw ConfigError(where, fmt::format("logit needs 0 < low < high < 1, got [{}, {}]",
                                             detail::shortest(low), detail::shortest(high)));
      break;
  }
}

double Parameter::to_unit(double internal) const {
  if (type == ParamType::Choice)
    return (internal + 0.5) / static_cast<double>(choices.size());
  auto [lo, hi] = unit_bounds(*this);
  double u = (forward(scale, internal) - lo) / (hi - lo);
  return std::clamp(u, 0.0, 1.0);
}

double Parameter::from_unit(double u) const {
  u = std::clamp(u, 0.0, 1.0);
  if (type == ParamType::Choice) {
    double k = static_cast<double>(choices.size());
    return std::min(std::floor(u * k), k - 1);
  }
  auto [lo, hi] = unit_bounds(*this);
  double x = inverse(scale, lo + u * (hi - lo));
  if (step) {
    double last = std::round((high - low) / *step);
    double k = std::clamp(std::round((x - low) / *step), 0.0, last);
    x = k == last ? high : low + k * *step;
  }
  return std::clamp(x, low, high);
}

json Parameter::external(double internal) const {
  switch (type) {
    case ParamType::Float: return internal;
    case ParamType::Int: return static_cast<std::int64_t>(std::llround(internal));
    case ParamType::Choice:  // an index; a stored one may be anything (NaN, -1, 1e300)
      if (!(internal >= 0 && internal < static_cast<double>(choices.size()))) return json();
      return choices[static_cast<std::size_t>(internal)];
  }
  return json();
}

std::string Parameter::text(double internal) const {
  switch (type) {
    case ParamType::Float: return detail::shortest(internal);
    case ParamType::Int: return std::to_string(std::llround(internal));
    case ParamType::Choice: return choice_text(external(internal));
  }
  return {};
}

double Parameter::scaled(double x, double f) const {
  double y = x;
  switch (scale) {
    case Scale::Linear:
    case Scale::Log: y = x * f; break;
    case Scale::ReverseLog: y = 1.0 - (1.0 - x) * f; break;
    case Scale::Logit: {
      const double odds = x / (1.0 - x) * f;
      y = odds / (1.0 + odds);
      break;
    }
  }
  if (!std::isfinite(y)) y = x;
  const double grid = step.value_or(type == ParamType::Int ? 1.0 : 0.0);
  if (grid > 0) {
    const double last = std::round((high - low) / grid);
    const double from = std::round((x - low) / grid);
    double k = std::clamp(std::round((y - low) / grid), 0.0, last);
    if (k == from && y != x) k = std::clamp(from + (y > x ? 1.0 : -1.0), 0.0, last);
    y = k == last ? high : low + k * grid;
  }
  return std::clamp(y, low, high);
}

double Parameter::internal(const json& v) const {
  auto fail = [&] {
    throw UsageError(name, fmt::format("{} is not a value of this parameter", v.dump()));
  };
  if (type == ParamType::Choice) {
    for (std::size_t i = 0; i < choices.size(); ++i) {
      const json& c = choices[i];
      if (c == v) return static_cast<double>(i);
      if (c.is_number() && v.is_number() && c.get<double>() == v.get<double>())
        return static_cast<double>(i);
      if (v.is_string() && choice_text(c) == v.get<std::string>()) return static_cast<double>(i);
    }
    fail();
  }
  double x;
  if (v.is_number()) {
    x = v.get<double>();
  } else if (v.is_string()) {
    const std::string& s = v.get_ref<const std::string&>();
    char* end = nullptr;
    x = std::strtod(s.c_str(), &end);
    if (s.empty() || *end != '\0') fail();
  } else {
    fail();
  }
  double tolerance = 1e-9 * std::max(1.0, std::abs(high - low));
  if (!(x >= low - tolerance && x <= high + tolerance)) fail();
  if (type == ParamType::Int && x != std::floor(x)) fail();
  if (step) {  // only values on the grid low + k·step belong to the space
    double k = (x - low) / *step;
    if (std::abs(k - std::round(k)) > 1e-9 * std::max(1.0, std::abs(k)))
      throw UsageError(name, fmt::format("{} is not low + a multiple of step ({})", v.dump(),
                                         detail::shortest(*step)));
    return std::clamp(low + std::round(k) * *step, low, high);
  }
  return std::clamp(x, low, high);
}

std::size_t Parameter::cardinality() const {
  if (type == ParamType::Choice) return choices.size();
  if (!step) return 0;
  return static_cast<std::size_t>(std::llround((high - low) / *step)) + 1;
}

// ---- SearchSpace ------------------------------------------------------------------------

SearchSpace::SearchSpace(std::vector<Parameter> params) {
  for (auto& p : params) add(std::move(p));
  check();
}

SearchSpace& SearchSpace::add(Parameter p) {
  std::string where = "parameters." + p.name;
  p.validate(where);
  if (find(p.name)) throw ConfigError(where, "a parameter of this name is already defined");
  if (p.type == ParamType::Int && !p.step) p.step = 1;
  auto by_name = std::make_shared<std::map<std::string, Parameter>>(*by_name_);
  (*by_name)[p.name] = p;
  by_name_ = std::move(by_name);
  params_.push_back(std::move(p));
  return *this;
}

void SearchSpace::check() const {
  for (const auto& p : params_) {
    if (!p.when) continue;
    std::string where = "parameters." + p.name + ".when";
    const Parameter* q = find(p.when->param);
    if (!q) {
      std::vector<std::string> names;
      for (const auto& r : params_) names.push_back(r.name);
      std::string hint = detail::closest(p.when->param, names);
      throw ConfigError(where, fmt::format("'{}' is not a parameter{}", p.when->param,
                                           hint.empty() ? "" : "; did you mean '" + hint + "'?"));
    }
    if (q == &p) throw ConfigError(where, "a parameter cannot depend on itself");
    if (q->type == ParamType::Choice) {
      std::vector<std::string> texts;
      for (const auto& c : q->choices) texts.push_back(choice_text(c));
      for (const auto& v : p.when->values)
        if (std::find(texts.begin(), texts.end(), v) == texts.end())
          throw ConfigError(where, fmt::format("'{}' is not a value of {} ({})", v, q->name,
                                               fmt::join(texts, ", ")));
    }
    // No cycles: follow the chain of conditions.
    const Parameter* walk = q;
    for (std::size_t hops = 0; walk && walk->when; ++hops) {
      if (hops > params_.size())
        throw ConfigError(where, "conditions form a cycle");
      walk = find(walk->when->param);
    }
  }
}

const Parameter* SearchSpace::find(const std::string& name) const {
  for (const auto& p : params_)
    if (p.name == name) return &p;
  return nullptr;
}

const Parameter& SearchSpace::at(const std::string& name) const {
  if (const Parameter* p = find(name)) return *p;
  throw UsageError(name, "no such parameter in the search space");
}

bool SearchSpace::active(const Parameter& p, const Params& chosen) const {
  if (!p.when) return true;
  auto it = chosen.find(p.when->param);
  if (it == chosen.end()) return false;
  return p.when->holds(at(p.when->param).text(it->second));
}

Params SearchSpace::from_unit(const std::vector<double>& u, const Params& fixed) const {
  Params out;
  // Parameters are taken in passes so that a condition's parameter is decided first.
  std::vector<bool> done(params_.size(), false);
  for (std::size_t pass = 0; pass <= params_.size(); ++pass) {
    bool progress = false;
    for (std::size_t i = 0; i < params_.size(); ++i) {
      const Parameter& p = params_[i];
      if (done[i]) continue;
      if (p.when) {
        std::size_t j = &at(p.when->param) - params_.data();
        if (!done[j]) continue;
      }
      done[i] = progress = true;
      if (!active(p, out)) continue;
      auto f = fixed.find(p.name);
      out[p.name] = f != fixed.end() ? f->second : p.from_unit(i < u.size() ? u[i] : 0.5);
    }
    if (!progress) break;
  }
  return out;
}

json SearchSpace::to_json(const Params& params) const {
  json out = json::object();
  for (const auto& p : params_) {
    auto it = params.find(p.name);
    if (it != params.end()) out[p.name] = p.external(it->second);
  }
  return out;
}

Params SearchSpace::from_json(const json& object) const {
  if (!object.is_object()) throw UsageError("params", "expected a JSON object of name: value");
  Params out;
  for (const auto& [name, value] : object.items()) out[name] = at(name).internal(value);
  return out;
}

json SearchSpace::to_config_json() const {
  json out = json::array();
  for (const auto& p : params_) {
    json d = {{"name", p.name}, {"type", to_string(p.type)}};
    if (p.type == ParamType::Choice) {
      d["values"] = p.choices;
    } else {
      d["low"] = p.type == ParamType::Int ? json(static_cast<std::int64_t>(p.low)) : json(p.low);
      d["high"] = p.type == ParamType::Int ? json(static_cast<std::int64_t>(p.high)) : json(p.high);
      if (p.scale != Scale::Linear) d["scale"] = to_string(p.scale);
      if (p.step && !(p.type == ParamType::Int && *p.step == 1)) d["step"] = *p.step;
    }
    if (p.when) d["when"] = p.when->text;
    out.push_back(d);
  }
  return out;
}

Parameter Parameter::from_config_json(const std::string& name, const json& d,
                                      const std::string& at) {
  static const std::vector<std::string> keys = {"type", "low", "high", "step", "scale", "values", "when"};
  if (!d.is_object()) throw ConfigError(at, "expected a mapping such as {type: float, low: 0, high: 1}");
  for (const auto& [key, value] : d.items()) {
    if (key == "name") continue;
    if (std::find(keys.begin(), keys.end(), key) == keys.end()) {
      std::string hint = detail::closest(key, keys);
      throw ConfigError(at + "." + key, "unknown key" +
                        (hint.empty() ? std::string() : "; did you mean '" + hint + "'?"));
    }
  }
  Parameter p;
  p.name = name;
  if (!d.contains("type")) throw ConfigError(at, "missing 'type' (float, int or choice)");
  std::string type = d["type"].is_string() ? d["type"].get<std::string>() : "";
  if (type == "float") p.type = ParamType::Float;
  else if (type == "int") p.type = ParamType::Int;
  else if (type == "choice" || type == "categorical") p.type = ParamType::Choice;
  else throw ConfigError(at + ".type", "must be float, int or choice, got " + d["type"].dump());
  auto number = [&](const char* key) {
    if (!d.contains(key)) throw ConfigError(at, fmt::format("missing '{}'", key));
    if (!d[key].is_number()) throw ConfigError(at + "." + key, "must be a number, got " + d[key].dump());
    return d[key].get<double>();
  };
  if (p.type == ParamType::Choice) {
    for (const char* key : {"low", "high", "step"})
      if (d.contains(key)) throw ConfigError(at + "." + key, "a choice takes 'values', not low/high/step");
    if (!d.contains("values") || !d["values"].is_array())
      throw ConfigError(at, "a choice needs 'values', a list");
    p.choices = d["values"].get<std::vector<json>>();
  } else {
    if (d.contains("values")) throw ConfigError(at + ".values", "only a choice takes 'values'");
    p.low = number("low");
    p.high = number("high");
    if (d.contains("step")) p.step = number("step");
  }
  if (d.contains("scale")) {
    std::string s = d["scale"].is_string() ? d["scale"].get<std::string>() : "";
    if (s == "linear") p.scale = Scale::Linear;
    else if (s == "log") p.scale = Scale::Log;
    else if (s == "reverse_log") p.scale = Scale::ReverseLog;
    else if (s == "logit") p.scale = Scale::Logit;
    else {
      std::string hint = detail::closest(s, std::vector<std::string>{"linear", "log", "reverse_log", "logit"});
      throw ConfigError(at + ".scale", "must be linear, log, reverse_log or logit, got " +
                        d["scale"].dump() + (hint.empty() ? "" : "; did you mean '" + hint + "'?"));
    }
  }
  if (d.contains("when")) {
    if (!d["when"].is_string()) throw ConfigError(at + ".when", "must be a text such as \"optimizer == adam\"");
    p.when = Condition::parse(d["when"].get<std::string>(), at + ".when");
  }
  p.validate(at);
  return p;
}

SearchSpace SearchSpace::from_config_json(const json& parameters, const std::string& where) {
  SearchSpace space;
  auto add = [&](const std::string& name, const json& d) {
    std::string at = where + "." + name;
    if (space.find(name)) throw ConfigError(at, "a parameter of this name is already defined");
    space.add(Parameter::from_config_json(name, d, at));
  };
  if (parameters.is_array() && !parameters.empty()) {
    for (const auto& d : parameters) {
      if (!d.is_object() || !d.contains("name") || !d["name"].is_string())
        throw ConfigError(where, "each parameter needs a name");
      add(d["name"].get<std::string>(), d);
    }
  } else if (parameters.is_object() && !parameters.empty()) {
    for (const auto& [name, d] : parameters.items()) add(name, d);
  } else {
    throw ConfigError(where, "expected a mapping of parameter names to definitions");
  }
  space.check();
  return space;
}

}  // namespace caviar
