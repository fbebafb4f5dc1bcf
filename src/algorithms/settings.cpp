#include "algorithms/settings.h"

#include <cmath>
#include <limits>

#include <fmt/core.h>

#include "base/format.h"
#include "caviar/error.h"

namespace caviar::detail {

Settings::Settings(const nlohmann::json& settings, std::string section, std::string owner)
    : settings_(settings.is_null() ? nlohmann::json::object() : settings),
      section_(std::move(section)),
      owner_(std::move(owner)) {
  if (!settings_.is_object()) throw ConfigError(section_, "expected a mapping, got " + settings_.dump());
}

const nlohmann::json* Settings::get(const std::string& key) {
  read_.insert(key);
  auto it = settings_.find(key);
  return it == settings_.end() ? nullptr : &*it;
}

double Settings::number(const std::string& key, double fallback, double low, double high) {
  const nlohmann::json* v = get(key);
  if (!v) return fallback;
  if (!v->is_number()) throw ConfigError(where(key), "must be a number, got " + v->dump());
  double x = v->get<double>();
  if (!std::isfinite(x) || x < low || x > high)
    throw ConfigError(where(key), fmt::format("must be in [{}, {}], got {}", low, high, x));
  return x;
}

std::int64_t Settings::whole(const std::string& key, std::int64_t fallback, std::int64_t low,
                             std::int64_t high) {
  const nlohmann::json* v = get(key);
  if (!v) return fallback;
  if (!v->is_number_integer())
    throw ConfigError(where(key), "must be a whole number, got " + v->dump());
  const bool open_above = high == std::numeric_limits<std::int64_t>::max() ||
                          high == std::numeric_limits<int>::max();
  const std::string range = open_above ? fmt::format("a whole number >= {}", low)
                                       : fmt::format("in [{}, {}]", low, high);
  if ((v->is_number_unsigned() && v->get<std::uint64_t>() > static_cast<std::uint64_t>(high)) ||
      v->get<std::int64_t>() < low || v->get<std::int64_t>() > high)
    throw ConfigError(where(key), fmt::format("must be {}, got {}", range, v->dump()));
  return v->get<std::int64_t>();
}

int Settings::integer(const std::string& key, int fallback, int low, int high) {
  return static_cast<int>(whole(key, fallback, low, high));
}

bool Settings::flag(const std::string& key, bool fallback) {
  const nlohmann::json* v = get(key);
  if (!v) return fallback;
  if (!v->is_boolean()) throw ConfigError(where(key), "must be true or false, got " + v->dump());
  return v->get<bool>();
}

std::string Settings::word(const std::string& key, const std::string& fallback,
                           const std::set<std::string>& allowed) {
  const nlohmann::json* v = get(key);
  if (!v) return fallback;
  std::string list;
  for (const auto& a : allowed) list += (list.empty() ? "" : ", ") + a;
  if (!v->is_string() || !allowed.count(v->get<std::string>()))
    throw ConfigError(where(key), fmt::format("must be one of {}, got {}", list, v->dump()));
  return v->get<std::string>();
}

void Settings::finish() const {
  for (const auto& [key, value] : settings_.items()) {
    if (read_.count(key)) continue;
    std::string known;
    for (const auto& k : read_) known += (known.empty() ? "" : ", ") + k;
    const std::string hint = closest(key, read_);
    throw ConfigError(where(key),
                      fmt::format("unknown key for {}{}{}", owner_,
                                  hint.empty() ? "" : "; did you mean '" + hint + "'?",
                                  known.empty() ? std::string(", which takes no settings")
                                                : "; it takes: " + known));
  }
}

}  // namespace caviar::detail
