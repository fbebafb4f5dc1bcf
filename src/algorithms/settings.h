// Reading an algorithm's own keys from its mapping in a config: `sampler:`, `pruner:` or
// `scheduler:`. One style for every family.
//
// Each family's factory takes the mapping (less `name`, and `seed` for samplers) and reads
// the keys it knows through Settings, which checks types and ranges and names the key at
// fault (`sampler.keep: must be in [0, 1], got 1.5`). finish() rejects any key the family
// did not read, with a did-you-mean, so a typo is an error rather than a silent default.
#pragma once

#include <cstdint>
#include <set>
#include <string>

#include <nlohmann/json.hpp>

namespace caviar::detail {

class Settings {
 public:
  // `section`: the config key the mapping sits under ("sampler"), for error paths;
  // `owner`: who reads it, for messages ("the gp sampler").
  Settings(const nlohmann::json& settings, std::string section, std::string owner);

  bool has(const std::string& key) const { return settings_.contains(key); }
  // A number in [low, high]; `fallback` when the key is absent.
  double number(const std::string& key, double fallback, double low, double high);
  // A whole number in [low, high].
  int integer(const std::string& key, int fallback, int low, int high);
  std::int64_t whole(const std::string& key, std::int64_t fallback, std::int64_t low,
                     std::int64_t high);
  bool flag(const std::string& key, bool fallback);
  // One of `allowed`.
  std::string word(const std::string& key, const std::string& fallback,
                   const std::set<std::string>& allowed);
  // The raw value of a key the caller checks itself (a list); nullptr when absent.
  const nlohmann::json* raw(const std::string& key) { return get(key); }
  // "sampler.key", for the caller's own errors.
  std::string where(const std::string& key) const { return section_ + "." + key; }
  // Throws ConfigError for the first key no reader asked for.
  void finish() const;

 private:
  const nlohmann::json* get(const std::string& key);
  nlohmann::json settings_;
  std::string section_, owner_;
  std::set<std::string> read_;
};

}  // namespace caviar::detail
