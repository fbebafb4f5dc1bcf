#include "caviar/config.h"

#include <yaml-cpp/yaml.h>

#include <fcntl.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <cmath>
#include <cstring>
#include <fstream>
#include <iterator>
#include <map>
#include <set>

#include <fmt/core.h>

#include "caviar/error.h"
#include "base/bounded_text.h"
#include "base/format.h"
#include "caviar/storage.h"

namespace caviar {
namespace {

namespace fs = std::filesystem;

std::string yaml_place(const YAML::Node& node) {
  auto m = node.Mark();
  return m.line >= 0 ? fmt::format(" (line {})", m.line + 1) : std::string();
}

bool digit(char c) { return c >= '0' && c <= '9'; }

// A value as an error message shows it: JSON, cut short.
std::string shown(const json& v) {
  std::string text = v.dump(-1, ' ', false, json::error_handler_t::replace);
  return text.size() <= 80 ? text : text.substr(0, 60) + fmt::format("... ({} characters)", text.size());
}

// [-+]?[0-9]+, by hand: std::regex recurses per character and overflows the stack on a
// long value.
bool integer_text(const std::string& t) {
  std::size_t i = t.size() && (t[0] == '+' || t[0] == '-') ? 1 : 0;
  if (i == t.size()) return false;
  for (; i < t.size(); ++i)
    if (!digit(t[i])) return false;
  return true;
}

// [-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?
bool real_text(const std::string& t) {
  const std::size_t n = t.size();
  std::size_t i = n && (t[0] == '+' || t[0] == '-') ? 1 : 0;
  std::size_t whole = 0, fraction = 0;
  while (i < n && digit(t[i])) ++i, ++whole;
  if (i < n && t[i] == '.')
    for (++i; i < n && digit(t[i]); ++i) ++fraction;
  if (whole == 0 && fraction == 0) return false;
  if (i < n && (t[i] == 'e' || t[i] == 'E')) {
    ++i;
    if (i < n && (t[i] == '+' || t[i] == '-')) ++i;
    std::size_t exponent = 0;
    while (i < n && digit(t[i])) ++i, ++exponent;
    if (exponent == 0) return false;
  }
  return i == n;
}

// YAML is Unicode text: a string of other bytes would reach messages and the storage's
// JSON, which cannot hold it (yaml-cpp itself refuses an escape such as "\ud800").
const std::string& utf8_scalar(const YAML::Node& node, const std::string& where) {
  const std::string& text = node.Scalar();
  if (detail::valid_utf8(text) != text)
    throw ConfigError(where.empty() ? "config" : where, "not UTF-8 text" + yaml_place(node));
  return text;
}

json scalar_to_json(const YAML::Node& node, const std::string& where) {
  const std::string& text = utf8_scalar(node, where);
  if (node.Tag() == "!") return text;  // quoted: always a string
  if (text == "~" || text == "null" || text == "Null" || text == "NULL" || text.empty()) return nullptr;
  if (text == "true" || text == "True" || text == "TRUE") return true;
  if (text == "false" || text == "False" || text == "FALSE") return false;
  if (integer_text(text)) {
    try { return std::stoll(text); } catch (...) {}
  }
  if (real_text(text)) return std::strtod(text.c_str(), nullptr);
  if (text == ".inf" || text == "+.inf") return HUGE_VAL;
  if (text == "-.inf") return -HUGE_VAL;
  return text;
}

// YAML to JSON; mappings become arrays of [key, value] pairs first so that order survives
// where it matters (parameters), then objects elsewhere. Every node made counts against
// kMaxConfigValues, and every scalar's text against kMaxConfigText: an alias is expanded
// each time it is used, so a few lines of aliases of aliases ("billion laughs"), or many
// aliases of one long text, would otherwise fill the memory.
constexpr std::size_t kMaxConfigText = std::size_t{16} << 20;  // docs/config.md#limits

struct Expansion {
  std::size_t nodes = 0, text = 0;
};

void count_text(const YAML::Node& node, const std::string& where, Expansion& expansion) {
  expansion.text += node.Scalar().size() + where.size();
  if (expansion.text > kMaxConfigText)
    throw ConfigError(where.empty() ? "config" : where,
                      fmt::format("more than {} MiB of text{}; YAML aliases (*name) count once for "
                                  "every use: is a long text used by many aliases?",
                                  kMaxConfigText >> 20, yaml_place(node)));
}

json to_json(const YAML::Node& node, const std::string& where, Expansion& expansion,
             bool keep_order = false, int depth = 0) {
  if (++expansion.nodes > kMaxConfigValues)
    throw ConfigError(where.empty() ? "config" : where,
                      fmt::format("more than {} values{}; YAML aliases (*name) count once for every "
                                  "use: is an alias used inside another one?",
                                  kMaxConfigValues, yaml_place(node)));
  if (depth > kMaxConfigDepth)
    throw ConfigError(where.empty() ? "config" : where,
                      fmt::format("nested more than {} levels deep{}", kMaxConfigDepth, yaml_place(node)));
  switch (node.Type()) {
    case YAML::NodeType::Null: return nullptr;
    case YAML::NodeType::Scalar:
      count_text(node, where, expansion);
      return scalar_to_json(node, where);
    case YAML::NodeType::Sequence: {
      json out = json::array();
      std::size_t i = 0;
      for (const auto& item : node)
        out.push_back(to_json(item, fmt::format("{}[{}]", where, i++), expansion, false, depth + 1));
      return out;
    }
    case YAML::NodeType::Map: {
      json object = json::object();
      json ordered = json::array();
      for (const auto& kv : node) {
        if (!kv.first.IsScalar())
          throw ConfigError(where.empty() ? "config" : where,
                            "a key must be a name, not a list or mapping" + yaml_place(kv.first));
        count_text(kv.first, where, expansion);
        std::string key = utf8_scalar(kv.first, where);
        std::string at = where.empty() ? key : where + "." + key;
        if (object.contains(key))
          throw ConfigError(at, "defined twice" + yaml_place(kv.first));
        object[key] = to_json(kv.second, at, expansion, false, depth + 1);
        if (keep_order) ordered.push_back({key, object[key]});
      }
      return keep_order ? ordered : object;
    }
    default: return nullptr;
  }
}

void check_keys(const json& object, const std::string& where,
                const std::vector<std::string>& allowed) {
  if (!object.is_object())
    throw ConfigError(where.empty() ? "config" : where, "expected a mapping of keys to values");
  for (const auto& [key, value] : object.items()) {
    if (std::find(allowed.begin(), allowed.end(), key) != allowed.end()) continue;
    std::string hint = detail::closest(key, allowed);
    throw ConfigError(where.empty() ? key : where + "." + key,
                      "unknown key" + (hint.empty() ? std::string() : "; did you mean '" + hint + "'?"));
  }
}

std::string text_of(const json& v, const std::string& where) {
  if (!v.is_string()) throw ConfigError(where, "must be a text, got " + shown(v));
  return v.get<std::string>();
}

// A whole number in [low, high]; a larger one is refused, never truncated.
int bounded_int(const json& v, const std::string& where, long long low, long long high) {
  if (!v.is_number_integer() || v.get<std::int64_t>() < low || v.get<std::int64_t>() > high)
    throw ConfigError(where, fmt::format("must be a whole number from {} to {}, got {}", low, high, shown(v)));
  return static_cast<int>(v.get<std::int64_t>());
}

// Every {name} in the command must be a parameter or a built-in placeholder. Scanned by
// hand (the executor's std::regex recurses once per character of a name, so a name is
// limited: a '{' followed by thousands of name characters would overflow its stack).
constexpr std::size_t kMaxPlaceholderName = 256;

bool name_start(char c) { return std::isalpha(static_cast<unsigned char>(c)) || c == '_'; }
bool name_char(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '.' || c == '-';
}

void check_placeholders(const CommandObjective& c, const SearchSpace& space) {
  std::vector<std::string> names;
  for (const auto& p : space.params()) names.push_back(p.name);
  for (const auto& b : builtin_placeholders()) names.push_back(b);
  for (std::size_t i = 0; i < c.argv.size(); ++i) {
    const std::string& arg = c.argv[i];
    const std::string where = fmt::format("objective.command[{}]", i);
    for (std::size_t at = 0; at < arg.size(); ++at) {
      if (arg[at] != '{' || at + 1 >= arg.size() || !name_start(arg[at + 1])) continue;
      std::size_t end = at + 2;
      while (end < arg.size() && name_char(arg[end])) ++end;
      if (end - at - 1 > kMaxPlaceholderName)
        throw ConfigError(where, fmt::format("a '{{' followed by {} name characters; a placeholder's name "
                                             "is at most {}", end - at - 1, kMaxPlaceholderName));
      if (end >= arg.size() || arg[end] != '}') continue;
      std::string name = arg.substr(at + 1, end - at - 1);
      at = end;
      if (std::find(names.begin(), names.end(), name) != names.end()) continue;
      std::string hint = detail::closest(name, names);
      throw ConfigError(where, fmt::format("'{{{}}}' names no parameter{}", name,
                                           hint.empty() ? "" : "; did you mean '{" + hint + "}'?"));
    }
  }
}

// A path's text as a config may hold it; a NUL would cut it short in every system call.
std::string path_text(const json& v, const std::string& where) {
  if (!v.is_string()) throw ConfigError(where, "must be a text, got " + shown(v));
  std::string text = v.get<std::string>();
  if (text.find('\0') != std::string::npos) throw ConfigError(where, "contains a NUL character");
  return text;
}

// FNV-1a, 64 bits: a stable hash (std::hash may differ between builds).
std::uint64_t fnv1a(const std::string& text) {
  std::uint64_t h = 0xcbf29ce484222325ULL;
  for (unsigned char c : text) {
    h ^= c;
    h *= 0x100000001b3ULL;
  }
  return h;
}

// What identifies a storage in a folder name: a SQLite file's absolute path, or the URL
// without its password.
std::string storage_identity(const std::string& url) {
  const std::string sqlite = "sqlite:///";
  if (url.rfind(sqlite, 0) == 0) {
    std::string path = url.substr(sqlite.size());
    if (auto q = path.find('?'); q != std::string::npos) path.resize(q);
    std::error_code ec;
    fs::path absolute = fs::absolute(path, ec);
    return sqlite + (ec ? path : absolute.lexically_normal().string());
  }
  return redacted_url(url);
}

// One device id as CUDA_VISIBLE_DEVICES takes it: an index (3) or a name (GPU-<uuid>,
// MIG-<uuid>): letters, digits and - _ : . / only, so that a list joins with ','.
std::string gpu_id(const std::string& id, const std::string& where) {
  if (id.empty()) throw ConfigError(where, "a device id is empty");
  if (id.size() > 128) throw ConfigError(where, "a device id is longer than 128 characters");
  for (char c : id)
    if (!std::isalnum(static_cast<unsigned char>(c)) && !std::strchr("-_:./", c))
      throw ConfigError(where, fmt::format("{} is not a device id (an index such as 0, or a name such as "
                                           "GPU-<uuid>)", shown(json(id))));
  return id;
}

// The ids once each, at most kMaxGpus, and enough of them for one trial.
void check_resources(const Resources& r, const std::string& where) {
  if (r.gpus.size() > static_cast<std::size_t>(kMaxGpus))
    throw ConfigError(where, fmt::format("at most {} devices, got {}", kMaxGpus, r.gpus.size()));
  std::set<std::string> seen;
  for (const auto& id : r.gpus)
    if (!seen.insert(id).second) throw ConfigError(where, fmt::format("device {} is listed twice", id));
  if (!r.gpus.empty() && r.gpus_per_trial > static_cast<int>(r.gpus.size()))
    throw ConfigError("resources.gpus_per_trial", fmt::format("{} devices per trial, but only {} are listed",
                                                              r.gpus_per_trial, r.gpus.size()));
}

Resources resources_from_json(const json& r) {
  if (!r.is_object()) throw ConfigError("resources", "expected a mapping such as {gpus: [0, 1]}");
  check_keys(r, "resources", {"gpus", "gpus_per_trial"});
  Resources out;
  if (r.contains("gpus")) {
    const json& list = r["gpus"];
    if (!list.is_array()) throw ConfigError("resources.gpus", "must be a list of device ids, such as [0, 1, 2, 3]");
    for (std::size_t i = 0; i < list.size(); ++i) {
      const std::string where = fmt::format("resources.gpus[{}]", i);
      if (list[i].is_number_integer() && list[i].get<std::int64_t>() >= 0)
        out.gpus.push_back(std::to_string(list[i].get<std::int64_t>()));
      else if (list[i].is_string()) out.gpus.push_back(gpu_id(list[i].get<std::string>(), where));
      else throw ConfigError(where, "must be a device index (0, 1, ...) or a name (GPU-<uuid>), got " + shown(list[i]));
    }
  }
  if (r.contains("gpus_per_trial"))
    out.gpus_per_trial = bounded_int(r["gpus_per_trial"], "resources.gpus_per_trial", 1, kMaxGpus);
  check_resources(out, "resources.gpus");
  return out;
}

// Devices are for commands: the built-in trainer runs on the CPU.
void check_devices_usable(const Config& config, const std::string& where) {
  if (!config.resources.gpus.empty() && !config.command)
    throw ConfigError(where, "the built-in objective runs on the CPU; devices are given to command objectives");
}

constexpr const char* kOwnerFile = ".caviar-study";

json owner_of(const Config& config) {
  return {{"study", config.study.name}, {"storage", storage_identity(config.storage)}};
}

}  // namespace

std::vector<std::string> parse_gpu_list(const std::string& text, const std::string& where) {
  std::vector<std::string> ids;
  if (text == "none") return ids;
  if (text.empty()) throw ConfigError(where, "no devices; give ids such as 0,1,2,3 (or none)");
  std::size_t begin = 0;
  while (true) {
    const std::size_t comma = text.find(',', begin);
    ids.push_back(gpu_id(text.substr(begin, comma == std::string::npos ? std::string::npos : comma - begin), where));
    if (ids.size() > static_cast<std::size_t>(kMaxGpus))
      throw ConfigError(where, fmt::format("at most {} devices", kMaxGpus));
    if (comma == std::string::npos) break;
    begin = comma + 1;
  }
  return ids;
}

const std::vector<std::string>& builtin_placeholders() {
  static const std::vector<std::string> names = {"trial", "study", "trial_dir"};
  return names;
}

std::chrono::milliseconds parse_duration(const json& v, const std::string& where) {
  // A number, then a unit; by hand, since std::regex overflows its stack on a long text.
  double seconds = -1;
  if (v.is_number()) {
    seconds = v.get<double>();
  } else if (v.is_string()) {
    const std::string text = v.get<std::string>();
    std::size_t i = 0, n = text.size();
    auto space = [&] { while (i < n && std::isspace(static_cast<unsigned char>(text[i]))) ++i; };
    space();
    const std::size_t number_start = i;
    std::size_t whole = 0, fraction = 0;
    bool dot = false;
    while (i < n && digit(text[i])) ++i, ++whole;
    if (i < n && text[i] == '.') {
      dot = true;
      for (++i; i < n && digit(text[i]); ++i) ++fraction;
    }
    const std::size_t number_end = i;
    space();
    const std::size_t unit_start = i;
    while (i < n && std::isalpha(static_cast<unsigned char>(text[i]))) ++i;
    const std::string unit = text.substr(unit_start, i - unit_start);
    space();
    static const std::map<std::string, double> units = {
        {"", 1}, {"ms", 0.001}, {"s", 1}, {"m", 60}, {"min", 60}, {"h", 3600}, {"d", 86400}};
    const auto scale = units.find(unit);
    const bool number_ok = dot ? fraction > 0 : whole > 0;
    if (number_ok && i == n && scale != units.end())
      seconds = std::strtod(text.substr(number_start, number_end - number_start).c_str(), nullptr) *
                scale->second;
  }
  if (!(seconds >= 0) || !std::isfinite(seconds))
    throw ConfigError(where, "must be a duration such as 30s, 20m, 1.5h or a number of seconds, got " + shown(v));
  const double most = std::chrono::duration<double>(kMaxDuration).count();
  if (seconds > most)
    throw ConfigError(where, fmt::format("at most {}d (a year), got {}", kMaxDuration.count() / 24, shown(v)));
  return std::chrono::milliseconds(static_cast<std::int64_t>(std::llround(seconds * 1000)));
}

std::string resolve_storage_url(const std::string& url, const fs::path& base_dir) {
  const std::string sqlite = "sqlite:///";
  if (url.rfind(sqlite, 0) != 0) return url;
  std::string rest = url.substr(sqlite.size());
  if (rest.empty() || rest[0] == '/') return url;
  return sqlite + (base_dir / rest).lexically_normal().string();
}

SearchSpace space_from_parameters(const json& pairs, const std::string& where) {
  if (!pairs.is_array() || pairs.empty())
    throw ConfigError(where, "expected a mapping of parameter names to definitions");
  json list = json::array();
  for (const auto& pair : pairs) {
    if (!pair.is_array() || pair.size() != 2 || !pair[0].is_string())
      throw ConfigError(where, "expected a mapping of parameter names to definitions");
    json d = pair[1];
    const std::string name = pair[0].get<std::string>();
    if (!d.is_object())
      throw ConfigError(where + "." + name, "expected a mapping such as {type: float, low: 0, high: 1}");
    if (d.contains("name")) throw ConfigError(where + "." + name + ".name", "unknown key");
    d["name"] = name;
    list.push_back(d);
  }
  return SearchSpace::from_config_json(list, where);
}

SamplerOptions sampler_options_from_json(const json& sampler) {
  if (!sampler.is_object()) throw ConfigError("sampler", "expected a mapping such as {name: random}");
  SamplerOptions options;
  for (const auto& [key, value] : sampler.items()) {
    if (key == "name") {
      options.name = text_of(value, "sampler.name");
    } else if (key == "seed") {
      if (!value.is_number_integer() || value.get<long long>() < 0)
        throw ConfigError("sampler.seed", "must be a whole number >= 0");
      options.seed = value.get<std::uint64_t>();
    } else {
      options.settings[key] = value;
    }
  }
  make_sampler(options);  // checks the name and the sampler's own keys
  return options;
}

// Long because it is the config's table of keys, read top to bottom in the order of
// docs/config.md, each block checking its own key; the families' own settings are read
// by their folders (algorithms/settings.h).
Config parse_config(const std::string& yaml, const fs::path& base_dir, const std::string& source) {
  YAML::Node root;
  try {
    root = YAML::Load(yaml);
  } catch (const YAML::Exception& e) {
    throw ConfigError(source, fmt::format("not valid YAML: {} (line {}, column {})", e.msg,
                                          e.mark.line + 1, e.mark.column + 1));
  }
  if (!root.IsMap()) throw ConfigError(source, "expected a mapping (study:, parameters:, ...)");
  Expansion expansion;
  json c;
  try {
    c = to_json(root, "", expansion);
  } catch (const YAML::Exception& e) {
    throw ConfigError(source, fmt::format("not valid YAML: {}", e.msg));
  }
  check_keys(c, "", {"study", "storage", "direction", "metric", "step", "objective", "parameters",
                     "sampler", "pruner", "scheduler", "budget", "retry", "heartbeat", "stale_after",
                     "trial_dir", "resources"});

  Config config;
  config.raw = c;
  StudyOptions& s = config.study;
  if (!c.contains("study")) throw ConfigError("study", "missing: every config names its study");
  s.name = text_of(c["study"], "study");
  check_study_name(s.name, "study");
  if (c.contains("direction")) s.direction = direction_from_string(text_of(c["direction"], "direction"));
  if (c.contains("storage")) {
    if (!c["storage"].is_string())  // not shown: it may hold a password
      throw ConfigError("storage", "must be a URL, such as sqlite:///caviar.db or postgresql://user@host/db");
    config.storage = path_text(c["storage"], "storage");
    note_secrets_of(config.storage);
  }
  config.storage = resolve_storage_url(config.storage, base_dir);

  if (!c.contains("parameters")) throw ConfigError("parameters", "missing: what should be tuned?");
  {
    Expansion again;  // the same nodes as above, in order
    json ordered = to_json(root["parameters"], "parameters", again, true);
    s.space = space_from_parameters(ordered);
  }

  if (c.contains("sampler")) s.sampler = sampler_options_from_json(c["sampler"]);
  if (c.contains("pruner")) s.pruner = pruner_options_from_json(c["pruner"]);
  if (c.contains("budget")) {
    const json& b = c["budget"];
    check_keys(b, "budget", {"trials", "parallel", "time"});
    if (b.contains("trials")) s.budget = bounded_int(b["trials"], "budget.trials", 1, kMaxTrials);
    config.parallel_given = b.contains("parallel");
    if (config.parallel_given) config.parallel = bounded_int(b["parallel"], "budget.parallel", 1, kMaxParallel);
    if (b.contains("time")) config.time_limit = parse_duration(b["time"], "budget.time");
  }
  if (c.contains("retry")) s.retry = bounded_int(c["retry"], "retry", 0, 100);
  if (c.contains("heartbeat")) s.heartbeat = parse_duration(c["heartbeat"], "heartbeat");
  if (c.contains("stale_after")) s.stale_after = parse_duration(c["stale_after"], "stale_after");
  else s.stale_after = std::max(s.stale_after, 4 * s.heartbeat);
  if (s.heartbeat.count() <= 0) throw ConfigError("heartbeat", "must be longer than 0");
  if (s.stale_after <= s.heartbeat)
    throw ConfigError("stale_after", "must be longer than the heartbeat interval");

  std::string metric = c.contains("metric") ? text_of(c["metric"], "metric") : "";
  std::string step = c.contains("step") ? text_of(c["step"], "step") : "epoch";
  if (c.contains("step") && c.contains("objective") && c["objective"].is_object() &&
      c["objective"].contains("builtin"))
    throw ConfigError("step", "a builtin objective reports by epoch; step is for commands");
  if (!c.contains("objective")) throw ConfigError("objective", "missing: give a command to run");
  const json& o = c["objective"];
  check_keys(o, "objective", {"command", "timeout", "grace", "env", "workdir", "builtin", "args"});
  if (o.contains("command") == o.contains("builtin"))
    throw ConfigError("objective", "give exactly one of 'command' or 'builtin'");
  if (o.contains("command")) {
    CommandObjective cmd;
    const json& argv = o["command"];
    if (argv.is_string())
      throw ConfigError("objective.command", "must be a list of arguments, such as "
                        "[python3, train.py, --lr, \"{lr}\"]; for a shell, write [sh, -c, \"...\"]");
    if (!argv.is_array() || argv.empty())
      throw ConfigError("objective.command", "must be a non-empty list of arguments");
    for (std::size_t i = 0; i < argv.size(); ++i) {
      const json& a = argv[i];
      if (a.is_string()) cmd.argv.push_back(a.get<std::string>());
      else if (a.is_number_float()) cmd.argv.push_back(detail::shortest(a.get<double>()));
      else if (a.is_number() || a.is_boolean()) cmd.argv.push_back(a.dump());
      else throw ConfigError(fmt::format("objective.command[{}]", i), "must be a text or number");
    }
    if (cmd.argv[0].empty()) throw ConfigError("objective.command[0]", "the program is empty");
    if (o.contains("timeout")) cmd.timeout = parse_duration(o["timeout"], "objective.timeout");
    if (o.contains("grace")) cmd.grace = parse_duration(o["grace"], "objective.grace");
    if (o.contains("env")) {
      if (!o["env"].is_object()) throw ConfigError("objective.env", "must be a mapping NAME: value");
      for (const auto& [k, v] : o["env"].items())
        cmd.env[k] = v.is_string() ? v.get<std::string>() : v.dump();
    }
    if (o.contains("args")) throw ConfigError("objective.args", "only a builtin objective takes args");
    cmd.workdir = base_dir;
    if (o.contains("workdir")) {
      fs::path w = path_text(o["workdir"], "objective.workdir");
      cmd.workdir = w.is_absolute() ? w : base_dir / w;
      if (!fs::is_directory(cmd.workdir))
        throw ConfigError("objective.workdir", "no such folder: " + cmd.workdir.string());
    }
    if (metric.empty())
      throw ConfigError("metric", "missing: name the value the command prints (e.g. metric: val_loss)");
    cmd.metric = metric;
    cmd.step_key = step;
    check_placeholders(cmd, s.space);
    config.command = std::move(cmd);
  } else {
    for (const char* key : {"timeout", "grace", "env", "workdir"})
      if (o.contains(key)) throw ConfigError(std::string("objective.") + key, "only a command objective takes this key");
    if (!o["builtin"].is_string()) throw ConfigError("objective.builtin", "must be a name, such as mlp");
    config.builtin = o;
  }
  config.metric = metric.empty() && !config.command ? "val_loss" : metric;

  if (c.contains("scheduler")) {
    const json& sc = c["scheduler"];
    const bool none = sc.is_object() && sc.size() == 1 && sc.value("name", json()) == "none";
    if (!none) {
      config.pbt = pbt_options_from_json(sc, s.space);
      if (s.pruner.name != "none")
        throw ConfigError("scheduler", fmt::format("PBT decides itself which members go on; it cannot be "
                                                   "used with the {} pruner (remove pruner:)", s.pruner.name));
    }
  }

  if (c.contains("resources")) {
    config.resources = resources_from_json(c["resources"]);
    check_devices_usable(config, "resources.gpus");
    if (!config.parallel_given && config.resources.slots() > 0) config.parallel = config.resources.slots();
  }

  config.base_dir = base_dir;
  config.trial_dir_given = c.contains("trial_dir");
  if (config.trial_dir_given) {
    fs::path trial_dir = path_text(c["trial_dir"], "trial_dir");
    if (trial_dir.empty()) throw ConfigError("trial_dir", "the folder is empty; remove trial_dir for the default");
    config.trial_root = trial_dir.is_absolute() ? trial_dir : base_dir / trial_dir;
  } else {
    config.trial_root = default_trial_root(base_dir, config.storage, s.name);
  }
  return config;
}

namespace {

// At most kMaxConfigBytes of the file, whatever it is (/dev/zero and a FIFO that never
// ends included): one byte more than the limit is an error, not a truncation.
std::string read_config_text(const fs::path& file) {
  std::error_code ec;
  if (fs::is_directory(file, ec)) throw ConfigError(file.string(), "a folder, not a config file");
  const int fd = ::open(file.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    const int error = errno;
    throw ConfigError(file.string(), error == ENOENT ? "no such file"
                                                     : fmt::format("cannot be read: {}", std::strerror(error)));
  }
  std::string text;
  char chunk[65536];
  while (text.size() <= kMaxConfigBytes) {
    const std::size_t want = std::min(sizeof chunk, kMaxConfigBytes + 1 - text.size());
    const ssize_t n = ::read(fd, chunk, want);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      const int error = errno;
      ::close(fd);
      throw ConfigError(file.string(), fmt::format("cannot be read: {}", std::strerror(error)));
    }
    if (n == 0) break;
    text.append(chunk, static_cast<std::size_t>(n));
  }
  ::close(fd);
  if (text.size() > kMaxConfigBytes)
    throw ConfigError(file.string(), fmt::format("larger than {} KiB: a config file is at most that "
                                                 "(is it the right file?)", kMaxConfigBytes / 1024));
  if (auto nul = text.find('\0'); nul != std::string::npos)
    throw ConfigError(file.string(), fmt::format("not a text file: a NUL byte at offset {}", nul));
  return text;
}

}  // namespace

Config load_config(const fs::path& file) {
  std::string text = read_config_text(file);
  fs::path base = fs::absolute(file).parent_path();
  try {
    Config c = parse_config(text, base, file.string());
    c.file = file;
    return c;
  } catch (const ConfigError& e) {
    if (e.where().rfind(file.string(), 0) == 0) throw;
    throw ConfigError(file.string() + ": " + e.where(), e.why());
  }
}

void check_study_name(const std::string& name, const std::string& where) {
  if (name.empty()) throw ConfigError(where, "the name is empty");
  if (name.size() > kMaxNameLength)
    throw ConfigError(where, fmt::format("a name of {} characters; a study's name is at most {}",
                                         name.size(), kMaxNameLength));
  for (unsigned char c : name)
    if (c < 0x20 || c == 0x7f)
      throw ConfigError(where, "the name holds a control character (a newline, tab or NUL)");
}

fs::path default_trial_root(const fs::path& base_dir, const std::string& storage, const std::string& study) {
  std::string safe;
  for (unsigned char c : study) {
    if (safe.size() == 64) break;
    safe += std::isalnum(c) || c == '.' || c == '_' || c == '-' ? static_cast<char>(c) : '_';
  }
  if (safe.empty() || safe[0] == '.') safe.insert(safe.begin(), '_');
  const std::uint64_t hash = fnv1a(storage_identity(storage) + '\0' + study);
  return base_dir / "caviar-runs" / fmt::format("{}-{:08x}", safe, static_cast<std::uint32_t>(hash ^ (hash >> 32)));
}

void apply_overrides(Config& config, const ConfigOverrides& o) {
  if (!o.study.empty()) {
    check_study_name(o.study, "--study");
    config.study.name = o.study;
  }
  if (!o.storage.empty()) {
    if (o.storage.find('\0') != std::string::npos) throw ConfigError("--storage", "contains a NUL character");
    config.storage = o.storage;
    note_secrets_of(config.storage);
  }
  if (o.trials) {
    if (*o.trials < 1 || *o.trials > kMaxTrials)
      throw ConfigError("--trials", fmt::format("must be a whole number from 1 to {}, got {}", kMaxTrials, *o.trials));
    config.study.budget = static_cast<int>(*o.trials);
  }
  if (o.parallel) {
    if (*o.parallel < 1 || *o.parallel > kMaxParallel)
      throw ConfigError("--parallel", fmt::format("must be a whole number from 1 to {}, got {}", kMaxParallel, *o.parallel));
    config.parallel = static_cast<int>(*o.parallel);
  }
  if (o.gpus) {
    config.resources.gpus = parse_gpu_list(*o.gpus, "--gpus");
    check_resources(config.resources, "--gpus");
    check_devices_usable(config, "--gpus");
    if (!o.parallel && !config.parallel_given)
      config.parallel = config.resources.gpus.empty() ? 1 : config.resources.slots();
  }
  if (!config.trial_dir_given)
    config.trial_root = default_trial_root(config.base_dir, config.storage, config.study.name);
}

void check_trial_root(const Config& config) {
  const fs::path file = config.trial_root / kOwnerFile;
  std::error_code ec;
  if (!fs::exists(file, ec)) return;
  json owner;
  try {
    std::ifstream in(file);
    std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    if (text.size() > 65536) throw std::runtime_error("too long");
    owner = json::parse(text);
  } catch (const std::exception&) {
    throw ConfigError("trial_dir", fmt::format("{} is not caviar's (it should name the study that owns {}); "
                                               "remove it or choose another trial_dir",
                                               file.string(), config.trial_root.string()));
  }
  const json mine = owner_of(config);
  if (owner == mine) return;
  throw ConfigError("trial_dir",
                    fmt::format("{} holds the trial folders of study '{}' in {}; study '{}' needs folders of "
                                "its own: change or remove trial_dir (or, if it is the same study moved, "
                                "delete {})",
                                config.trial_root.string(), owner.value("study", std::string("?")),
                                redacted_url(owner.value("storage", std::string("?"))), config.study.name,
                                file.string()));
}

void claim_trial_root(const Config& config) {
  check_trial_root(config);
  std::error_code ec;
  fs::create_directories(config.trial_root, ec);
  if (ec)
    throw ConfigError("trial_dir", fmt::format("cannot create {}: {}", config.trial_root.string(), ec.message()));
  const fs::path file = config.trial_root / kOwnerFile;
  if (fs::exists(file, ec)) return;
  // Written aside, then linked into place: of two studies claiming one folder at once, one
  // wins and the other reads a whole file and is refused.
  const fs::path aside = config.trial_root / fmt::format("{}.{}", kOwnerFile, ::getpid());
  {
    std::ofstream out(aside, std::ios::trunc);
    out << owner_of(config).dump(2) << "\n";
    if (!out.flush())
      throw ConfigError("trial_dir", fmt::format("cannot write {}", aside.string()));
  }
  const int linked = ::link(aside.c_str(), file.c_str());
  const int error = errno;
  fs::remove(aside, ec);
  if (linked == 0) return;
  if (error == EEXIST) return check_trial_root(config);
  throw ConfigError("trial_dir", fmt::format("cannot write {}: {}", file.string(), std::strerror(error)));
}

}  // namespace caviar
