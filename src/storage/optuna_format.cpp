// Optuna's distribution_json, to and from caviar's parameters (storage/optuna_format.h).
#include "storage/optuna_format.h"

#include <cmath>

#include <fmt/core.h>

#include "base/format.h"
#include "caviar/error.h"

namespace caviar::detail {

json optuna_distribution(const Parameter& p) {
  switch (p.type) {
    case ParamType::Float:
      return {{"name", "FloatDistribution"},
              {"attributes", {{"step", p.step ? json(*p.step) : json(nullptr)},
                              {"low", p.low}, {"high", p.high}, {"log", p.scale == Scale::Log}}}};
    case ParamType::Int:
      return {{"name", "IntDistribution"},
              {"attributes", {{"log", p.scale == Scale::Log},
                              {"step", static_cast<std::int64_t>(p.step.value_or(1))},
                              {"low", static_cast<std::int64_t>(p.low)},
                              {"high", static_cast<std::int64_t>(p.high)}}}};
    case ParamType::Choice:
      return {{"name", "CategoricalDistribution"}, {"attributes", {{"choices", p.choices}}}};
  }
  return json();
}

Parameter parameter_from_optuna(const std::string& name, const json& d) {
  Parameter p;
  p.name = name;
  try {
    const std::string kind = d.at("name");
    const json& a = d.at("attributes");
    auto number = [&](const char* key) { return a.at(key).get<double>(); };
    if (kind == "CategoricalDistribution") {
      p.type = ParamType::Choice;
      p.choices = a.at("choices").get<std::vector<json>>();
    } else if (kind == "FloatDistribution" || kind == "UniformDistribution" ||
               kind == "LogUniformDistribution" || kind == "DiscreteUniformDistribution") {
      p.type = ParamType::Float;
      p.low = number("low"), p.high = number("high");
      if (kind == "LogUniformDistribution" || (a.contains("log") && a["log"].get<bool>()))
        p.scale = Scale::Log;
      if (a.contains("step") && !a["step"].is_null()) p.step = number("step");
      if (a.contains("q") && !a["q"].is_null()) p.step = number("q");
    } else if (kind == "IntDistribution" || kind == "IntUniformDistribution" ||
               kind == "IntLogUniformDistribution") {
      p.type = ParamType::Int;
      p.low = number("low"), p.high = number("high");
      p.step = a.contains("step") && !a["step"].is_null() ? number("step") : 1.0;
      for (double v : {p.low, p.high, *p.step})
        if (!(v >= -0x1p63 && v < 0x1p63 && v == std::floor(v)))  // what optuna_distribution() writes back
          throw StorageError(name, fmt::format("unreadable distribution: {}'s low, high and step must be "
                                               "whole numbers that an int64 holds, got {}", kind, shortest(v)));
      if (kind == "IntLogUniformDistribution" || (a.contains("log") && a["log"].get<bool>()))
        p.scale = Scale::Log;
    } else {
      throw UsageError(name, "unknown Optuna distribution '" + kind + "'");
    }
  } catch (const json::exception& e) {
    throw StorageError(name, std::string("unreadable distribution: ") + e.what());
  }
  return p;
}

}  // namespace caviar::detail
