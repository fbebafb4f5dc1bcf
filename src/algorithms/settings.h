// Reading a sampler's own keys from the `sampler:` mapping of a config.
//
// Each sampler factory takes the mapping (less `name` and `seed`) and reads the keys it
// knows through SamplerSettings, which checks types and ranges and names the key at
// fault (`sampler.keep: must be in (0, 1], got 1.5`). finish() rejects any key the
// sampler did not read, so a typo is an error rather than a silent default.
#pragma once

#include <set>
#include <string>

#include <nlohmann/json.hpp>

namespace caviar::detail {

class SamplerSettings {
 public:
  SamplerSettings(const nlohmann::json& settings, std::string sampler);

  // A number in [low, high]; `fallback` when the key is absent.
  double number(const std::string& key, double fallback, double low, double high);
  // A whole number in [low, high].
  int integer(const std::string& key, int fallback, int low, int high);
  bool flag(const std::string& key, bool fallback);
  // One of `allowed`.
  std::string word(const std::string& key, const std::string& fallback,
                   const std::set<std::string>& allowed);
  // Throws ConfigError for the first key no reader asked for.
  void finish() const;

 private:
  const nlohmann::json* get(const std::string& key);
  nlohmann::json settings_;
  std::string sampler_;
  std::set<std::string> read_;
};

}  // namespace caviar::detail
