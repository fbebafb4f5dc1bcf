#include "caviar/config.h"

#include <yaml-cpp/yaml.h>

#include <cmath>
#include <fstream>
#include <regex>
#include <set>
#include <sstream>

#include <fmt/core.h>

#include "caviar/error.h"
#include "base/format.h"

namespace caviar {
namespace {

namespace fs = std::filesystem;

std::string yaml_place(const YAML::Node& node) {
  auto m = node.Mark();
  return m.line >= 0 ? fmt::format(" (line {})", m.line + 1) : std::string();
}

json scalar_to_json(const YAML::Node& node) {
  const std::string& text = node.Scalar();
  if (node.Tag() == "!") return text;  // quoted: always a string
  if (text == "~" || text == "null" || text == "Null" || text == "NULL" || text.empty()) return nullptr;
  if (text == "true" || text == "True" || text == "TRUE") return true;
  if (text == "false" || text == "False" || text == "FALSE") return false;
  static const std::regex integer(R"([-+]?[0-9]+)");
  static const std::regex real(R"([-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?)");
  if (std::regex_match(text, integer)) {
    try { return std::stoll(text); } catch (...) {}
  }
  if (std::regex_match(text, real)) return std::strtod(text.c_str(), nullptr);
  if (text == ".inf" || text == "+.inf") return HUGE_VAL;
  if (text == "-.inf") return -HUGE_VAL;
  return text;
}

// YAML to JSON; mappings become arrays of [key, value] pairs first so that order survives
// where it matters (parameters), then objects elsewhere.
json to_json(const YAML::Node& node, const std::string& where, bool keep_order = false) {
  switch (node.Type()) {
    case YAML::NodeType::Null: return nullptr;
    case YAML::NodeType::Scalar: return scalar_to_json(node);
    case YAML::NodeType::Sequence: {
      json out = json::array();
      std::size_t i = 0;
      for (const auto& item : node) out.push_back(to_json(item, fmt::format("{}[{}]", where, i++)));
      return out;
    }
    case YAML::NodeType::Map: {
      json object = json::object();
      json ordered = json::array();
      for (const auto& kv : node) {
        std::string key = kv.first.Scalar();
        std::string at = where.empty() ? key : where + "." + key;
        if (object.contains(key))
          throw ConfigError(at, "defined twice" + yaml_place(kv.first));
        object[key] = to_json(kv.second, at);
        ordered.push_back({key, object[key]});
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
  if (!v.is_string()) throw ConfigError(where, "must be a text, got " + v.dump());
  return v.get<std::string>();
}

int positive_int(const json& v, const std::string& where) {
  if (!v.is_number_integer() || v.get<std::int64_t>() < 1 || v.get<std::int64_t>() > 1'000'000'000)
    throw ConfigError(where, "must be a positive whole number, got " + v.dump());
  return v.get<int>();
}

// Every {name} in the command must be a parameter or a built-in placeholder.
void check_placeholders(const CommandObjective& c, const SearchSpace& space) {
  static const std::regex placeholder(R"(\{([A-Za-z_][A-Za-z0-9_.-]*)\})");
  std::vector<std::string> names;
  for (const auto& p : space.params()) names.push_back(p.name);
  for (const auto& b : builtin_placeholders()) names.push_back(b);
  for (std::size_t i = 0; i < c.argv.size(); ++i) {
    const std::string& arg = c.argv[i];
    for (auto it = std::sregex_iterator(arg.begin(), arg.end(), placeholder);
         it != std::sregex_iterator(); ++it) {
      std::string name = (*it)[1];
      if (std::find(names.begin(), names.end(), name) != names.end()) continue;
      std::string hint = detail::closest(name, names);
      throw ConfigError(fmt::format("objective.command[{}]", i),
                        fmt::format("'{{{}}}' names no parameter{}", name,
                                    hint.empty() ? "" : "; did you mean '{" + hint + "}'?"));
    }
  }
}

}  // namespace

const std::vector<std::string>& builtin_placeholders() {
  static const std::vector<std::string> names = {"trial", "study", "trial_dir"};
  return names;
}

std::chrono::milliseconds parse_duration(const json& v, const std::string& where) {
  double seconds = -1;
  if (v.is_number()) {
    seconds = v.get<double>();
  } else if (v.is_string()) {
    static const std::regex form(R"(\s*([0-9]*\.?[0-9]+)\s*(ms|s|m|min|h|d)?\s*)");
    std::smatch m;
    std::string text = v.get<std::string>();
    if (std::regex_match(text, m, form)) {
      double n = std::stod(m[1]);
      std::string unit = m[2];
      double scale = unit == "ms" ? 0.001 : unit == "m" || unit == "min" ? 60
                   : unit == "h" ? 3600 : unit == "d" ? 86400 : 1;
      seconds = n * scale;
    }
  }
  if (!(seconds >= 0) || !std::isfinite(seconds))
    throw ConfigError(where, "must be a duration such as 30s, 20m, 1.5h or a number of seconds, got " + v.dump());
  return std::chrono::milliseconds(static_cast<std::int64_t>(std::llround(seconds * 1000)));
}

std::string resolve_storage_url(const std::string& url, const fs::path& base_dir) {
  const std::string sqlite = "sqlite:///";
  if (url.rfind(sqlite, 0) != 0) return url;
  std::string rest = url.substr(sqlite.size());
  if (rest.empty() || rest[0] == '/') return url;
  return sqlite + (base_dir / rest).lexically_normal().string();
}

Config parse_config(const std::string& yaml, const fs::path& base_dir, const std::string& source) {
  YAML::Node root;
  try {
    root = YAML::Load(yaml);
  } catch (const YAML::Exception& e) {
    throw ConfigError(source, fmt::format("not valid YAML: {} (line {}, column {})", e.msg,
                                          e.mark.line + 1, e.mark.column + 1));
  }
  if (!root.IsMap()) throw ConfigError(source, "expected a mapping (study:, parameters:, ...)");
  json c = to_json(root, "");
  check_keys(c, "", {"study", "storage", "direction", "metric", "step", "objective", "parameters",
                     "sampler", "pruner", "scheduler", "budget", "retry", "heartbeat", "stale_after",
                     "trial_dir"});

  Config config;
  config.raw = c;
  StudyOptions& s = config.study;
  if (!c.contains("study")) throw ConfigError("study", "missing: every config names its study");
  s.name = text_of(c["study"], "study");
  if (s.name.empty()) throw ConfigError("study", "the name is empty");
  if (c.contains("direction")) s.direction = direction_from_string(text_of(c["direction"], "direction"));
  if (c.contains("storage")) config.storage = text_of(c["storage"], "storage");
  config.storage = resolve_storage_url(config.storage, base_dir);

  if (!c.contains("parameters")) throw ConfigError("parameters", "missing: what should be tuned?");
  {
    json ordered = to_json(root["parameters"], "parameters", true);
    if (!ordered.is_array() || ordered.empty())
      throw ConfigError("parameters", "expected a mapping of parameter names to definitions");
    json list = json::array();
    for (const auto& pair : ordered) {
      json d = pair[1];
      if (!d.is_object())
        throw ConfigError("parameters." + pair[0].get<std::string>(),
                          "expected a mapping such as {type: float, low: 0, high: 1}");
      if (d.contains("name"))
        throw ConfigError("parameters." + pair[0].get<std::string>() + ".name", "unknown key");
      d["name"] = pair[0];
      list.push_back(d);
    }
    s.space = SearchSpace::from_config_json(list, "parameters");
  }

  if (c.contains("sampler")) {
    const json& sm = c["sampler"];
    if (!sm.is_object()) throw ConfigError("sampler", "expected a mapping such as {name: random}");
    for (const auto& [key, value] : sm.items()) {
      if (key == "name") {
        s.sampler.name = text_of(value, "sampler.name");
      } else if (key == "seed") {
        if (!value.is_number_integer() || value.get<long long>() < 0)
          throw ConfigError("sampler.seed", "must be a whole number >= 0");
        s.sampler.seed = value.get<std::uint64_t>();
      } else {
        s.sampler.settings[key] = value;
      }
    }
    make_sampler(s.sampler);  // checks the name and the sampler's own keys
  }
  if (c.contains("pruner")) s.pruner = pruner_options_from_json(c["pruner"]);
  if (c.contains("budget")) {
    const json& b = c["budget"];
    check_keys(b, "budget", {"trials", "parallel", "time"});
    if (b.contains("trials")) s.budget = positive_int(b["trials"], "budget.trials");
    if (b.contains("parallel")) config.parallel = positive_int(b["parallel"], "budget.parallel");
    if (b.contains("time")) config.time_limit = parse_duration(b["time"], "budget.time");
  }
  if (c.contains("retry")) {
    if (!c["retry"].is_number_integer() || c["retry"].get<int>() < 0)
      throw ConfigError("retry", "must be a whole number >= 0, got " + c["retry"].dump());
    s.retry = c["retry"].get<int>();
  }
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
      fs::path w = text_of(o["workdir"], "objective.workdir");
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

  std::string trial_dir = c.contains("trial_dir") ? text_of(c["trial_dir"], "trial_dir")
                                                  : "caviar-runs/" + s.name;
  config.trial_root = fs::path(trial_dir).is_absolute() ? fs::path(trial_dir) : base_dir / trial_dir;
  return config;
}

Config load_config(const fs::path& file) {
  std::ifstream in(file);
  if (!in) {
    std::string why = fs::exists(file) ? "cannot be read" : "no such file";
    throw ConfigError(file.string(), why);
  }
  std::stringstream text;
  text << in.rdbuf();
  fs::path base = fs::absolute(file).parent_path();
  try {
    Config c = parse_config(text.str(), base, file.string());
    c.file = file;
    return c;
  } catch (const ConfigError& e) {
    if (e.where().rfind(file.string(), 0) == 0) throw;
    throw ConfigError(file.string() + ": " + e.where(), e.why());
  }
}

}  // namespace caviar
