#include "algorithms/settings.h"

#include <cmath>

#include <fmt/core.h>

#include "caviar/error.h"

namespace caviar::detail {

SamplerSettings::SamplerSettings(const nlohmann::json& settings, std::string sampler)
    : settings_(settings.is_null() ? nlohmann::json::object() : settings),
      sampler_(std::move(sampler)) {
  if (!settings_.is_object())
    throw ConfigError("sampler", "expected a mapping such as {name: " + sampler_ + "}");
}

const nlohmann::json* SamplerSettings::get(const std::string& key) {
  read_.insert(key);
  auto it = settings_.find(key);
  return it == settings_.end() ? nullptr : &*it;
}

double SamplerSettings::number(const std::string& key, double fallback, double low,
                               double high) {
  const nlohmann::json* v = get(key);
  if (!v) return fallback;
  if (!v->is_number()) throw ConfigError("sampler." + key, "must be a number, got " + v->dump());
  double x = v->get<double>();
  if (!std::isfinite(x) || x < low || x > high)
    throw ConfigError("sampler." + key, fmt::format("must be in [{}, {}], got {}", low, high, x));
  return x;
}

int SamplerSettings::integer(const std::string& key, int fallback, int low, int high) {
  const nlohmann::json* v = get(key);
  if (!v) return fallback;
  if (!v->is_number_integer())
    throw ConfigError("sampler." + key, "must be a whole number, got " + v->dump());
  auto x = v->get<long long>();
  if (x < low || x > high)
    throw ConfigError("sampler." + key, fmt::format("must be in [{}, {}], got {}", low, high, x));
  return static_cast<int>(x);
}

bool SamplerSettings::flag(const std::string& key, bool fallback) {
  const nlohmann::json* v = get(key);
  if (!v) return fallback;
  if (!v->is_boolean()) throw ConfigError("sampler." + key, "must be true or false, got " + v->dump());
  return v->get<bool>();
}

std::string SamplerSettings::word(const std::string& key, const std::string& fallback,
                                  const std::set<std::string>& allowed) {
  const nlohmann::json* v = get(key);
  if (!v) return fallback;
  std::string list;
  for (const auto& a : allowed) list += (list.empty() ? "" : ", ") + a;
  if (!v->is_string() || !allowed.count(v->get<std::string>()))
    throw ConfigError("sampler." + key, fmt::format("must be one of {}, got {}", list, v->dump()));
  return v->get<std::string>();
}

void SamplerSettings::finish() const {
  for (const auto& [key, value] : settings_.items()) {
    if (read_.count(key)) continue;
    std::string known;
    for (const auto& k : read_) known += (known.empty() ? "" : ", ") + k;
    throw ConfigError("sampler." + key,
                      fmt::format("unknown key for the {} sampler{}", sampler_,
                                  known.empty() ? std::string(", which takes no settings")
                                                : "; it takes: " + known));
  }
}

}  // namespace caviar::detail
