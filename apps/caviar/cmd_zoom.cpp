// caviar zoom: coarse to fine by hand. Writes the search space narrowed to the box around a
// study's best trials (include/caviar/zoom.h) as a new config to read, edit and run:
//
//   caviar zoom study.yaml --keep 0.2 --out narrowed.yaml
//   caviar tune narrowed.yaml          # the next round, as study '<name>-zoom1'
//
// With the study's config, the new file is that config with `study:` renamed and the
// `parameters:` block replaced (everything else, comments included, kept as written).
// With --storage/--study only, it holds study:, storage:, direction: and parameters:.
#include <algorithm>
#include <cctype>
#include <filesystem>
#include <functional>
#include <fstream>
#include <set>
#include <sstream>

#include <yaml-cpp/yaml.h>

#include <fmt/core.h>

#include "caviar/error.h"
#include "caviar/study.h"
#include "caviar/zoom.h"
#include "command.h"
#include "common.h"
#include "base/format.h"

namespace caviar::cli {
namespace {

namespace fs = std::filesystem;

struct Args {
  StudyLocation where;
  double keep = kZoomDefaultKeep;
  double margin = kZoomDefaultMargin;
  std::string out;
  std::string name;
  bool force = false;
};

// The next round's study name: "fashion" -> "fashion-zoom1", "fashion-zoom1" -> "fashion-zoom2".
std::string next_name(const std::string& name) {
  // By hand: std::regex recurses per character and overflows its stack on a long name.
  const auto dash = name.rfind("-zoom");
  if (dash != std::string::npos) {
    const std::string digits = name.substr(dash + 5);
    if (!digits.empty() && digits.size() <= 9 &&
        std::all_of(digits.begin(), digits.end(), [](char c) { return c >= '0' && c <= '9'; }))
      return name.substr(0, dash) + "-zoom" + std::to_string(std::stol(digits) + 1);
  }
  return name + "-zoom1";
}

// study:, storage: and direction: of a config written from --storage/--study. A password
// in the URL is not written (libpq reads it from PGPASSWORD or ~/.pgpass instead).
std::string storage_lines(const std::string& url, const std::string& study, const std::string& direction) {
  const std::string kept = url_without_password(url);
  return fmt::format("study: {}\n{}storage: {}\ndirection: {}\n", study,
                     kept == url ? "" : "# the storage's password is not written here: give it in PGPASSWORD or ~/.pgpass\n",
                     yaml_scalar(json(kept)), direction);
}

// A value for a comment: floats to 4 significant digits.
std::string brief(const Parameter& p, double internal) {
  return p.type == ParamType::Float ? fmt::format("{:.4g}", internal) : p.text(internal);
}

std::string range_text(const Parameter& p) {
  if (p.type == ParamType::Choice) {
    std::string list;
    for (const auto& c : p.choices) list += (list.empty() ? "" : ", ") + yaml_scalar(c);
    return "[" + list + "]";
  }
  return fmt::format("[{}, {}]", p.text(p.low), p.text(p.high));
}

// One line per parameter, flow style, with what it was as a comment.
std::string parameters_block(const SearchSpace& narrowed, const SearchSpace& original,
                             const std::optional<TrialRecord>& best) {
  std::string out = "parameters:\n";
  for (const auto& p : narrowed.params()) {
    std::string d = fmt::format("type: {}", to_string(p.type));
    if (p.type == ParamType::Choice) {
      d += ", values: " + range_text(p);
    } else {
      d += fmt::format(", low: {}, high: {}", p.text(p.low), p.text(p.high));
      if (p.scale != Scale::Linear) d += fmt::format(", scale: {}", to_string(p.scale));
      if (p.step && !(p.type == ParamType::Int && *p.step == 1)) d += ", step: " + detail::shortest(*p.step);
    }
    if (p.when) d += ", when: " + json(p.when->text).dump();
    std::string note = "was " + range_text(original.at(p.name));
    if (best && best->params.count(p.name))
      note += "; best trial: " + brief(original.at(p.name), best->params.at(p.name));
    out += fmt::format("  {}: {{{}}}  # {}\n", yaml_key(p.name), d, note);
  }
  for (const auto& p : original.params())
    if (!narrowed.find(p.name))
      out += fmt::format("  # {}: left out; its condition ({}) can no longer hold\n", p.name,
                         p.when ? p.when->text : "");
  return out;
}

// The original config's text with the `study:` line and the `parameters:` block replaced,
// or "" if the file is not laid out so (then the caller writes the config afresh).
std::string replace_in_text(const std::string& text, const std::string& study,
                            const std::string& parameters) {
  std::vector<std::string> lines;
  std::stringstream in(text);
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  auto top_level_key = [](const std::string& line) {
    return !line.empty() && !std::isspace(static_cast<unsigned char>(line[0])) && line[0] != '#' &&
           line[0] != '-';
  };
  std::size_t begin = lines.size(), study_line = lines.size();
  for (std::size_t i = 0; i < lines.size(); ++i) {
    if (lines[i].rfind("parameters:", 0) == 0) begin = i;
    if (lines[i].rfind("study:", 0) == 0) study_line = i;
  }
  if (begin == lines.size() || study_line == lines.size()) return "";
  std::size_t end = begin + 1;
  while (end < lines.size() && !top_level_key(lines[end])) ++end;
  // Comments and blank lines just above the next key belong to that key.
  while (end > begin + 1) {
    const std::string& l = lines[end - 1];
    if (l.empty() || l[0] == '#') --end;
    else break;
  }
  std::string out;
  for (std::size_t i = 0; i < lines.size(); ++i) {
    if (i == begin) out += parameters;
    if (i >= begin && i < end) continue;
    out += i == study_line ? "study: " + yaml_key(study) : lines[i];
    out += "\n";
  }
  return out;
}

// The whole config afresh from its JSON form (comments and key order are lost).
std::string config_afresh(const json& raw, const std::string& study, const std::string& parameters) {
  YAML::Emitter e;
  std::function<void(const json&)> emit = [&](const json& v) {
    if (v.is_object()) {
      e << YAML::BeginMap;
      for (const auto& [k, x] : v.items()) {
        e << YAML::Key << k << YAML::Value;
        emit(x);
      }
      e << YAML::EndMap;
    } else if (v.is_array()) {
      e << YAML::Flow << YAML::BeginSeq;
      for (const auto& x : v) emit(x);
      e << YAML::EndSeq;
    } else if (v.is_string()) {
      e << YAML::DoubleQuoted << v.get<std::string>();
    } else if (v.is_boolean()) {
      e << v.get<bool>();
    } else if (v.is_null()) {
      e << YAML::Null;
    } else {
      e << yaml_scalar(v);  // a number in its shortest form
    }
  };
  json rest = raw;
  rest.erase("parameters");
  rest["study"] = study;
  emit(rest);
  return std::string(e.c_str()) + "\n" + parameters;
}

CommandRegistrar zoom_cmd(35, [](CLI::App& app) {
  auto a = std::make_shared<Args>();
  auto* cmd = app.add_subcommand(
      "zoom",
      "Write the search space narrowed around a study's best trials as a new config "
      "(coarse to fine by hand: look at it, edit it, run it)");
  cmd->footer(
      "The box holds the best --keep fraction of the complete trials, computed on each "
      "parameter's scale (log parameters zoom in decades), widened by --margin times its "
      "width on each side and rounded outward to few significant digits; choices keep the "
      "values the best trials used. The new config renames the study to NAME-zoom1 (or "
      "-zoomN+1) so that `caviar tune` starts a fresh round.\n\n"
      "Example:\n  caviar zoom study.yaml --keep 0.2 --out narrowed.yaml\n"
      "  caviar tune narrowed.yaml");
  add_location_options(cmd, a->where);
  cmd->add_option("--keep", a->keep, "Fraction of the complete trials to zoom around, in (0, 1]")
      ->capture_default_str();
  cmd->add_option("--margin", a->margin, "Widen the box by this fraction of its width on each side")
      ->capture_default_str();
  cmd->add_option("--out,-o", a->out, "The config file to write")->required();
  cmd->add_option("--name", a->name, "The new config's study name (default: NAME-zoom1)");
  cmd->add_flag("--force", a->force, "Overwrite --out if it exists");
  cmd->callback([a] {
    if (!(a->keep > 0 && a->keep <= 1))
      throw UsageError("--keep", fmt::format("must be in (0, 1], got {}", a->keep));
    if (!(a->margin >= 0 && a->margin <= 10))
      throw UsageError("--margin", fmt::format("must be in [0, 10], got {}", a->margin));
    if (fs::exists(a->out) && !a->force)
      throw UsageError(a->out, "exists already; choose another --out or add --force");
    auto s = open_existing_study(a->where);
    auto trials = s.view.trials();
    const int complete = static_cast<int>(std::count_if(trials.begin(), trials.end(), rankable));
    std::optional<TrialRecord> best;
    if (const TrialRecord* b = best_trial(trials, s.view.record().direction)) best = *b;
    if (complete == 0)
      throw UsageError("study '" + s.view.record().name + "'",
                       "no complete trial yet; run some trials before zooming in");
    SearchSpace space = s.config ? s.config->study.space : s.view.space(trials);
    ZoomBox box = zoom_box(space, trials, s.view.record().direction, a->keep, a->margin);
    SearchSpace narrowed = narrow(space, box);
    std::string study = a->name.empty() ? next_name(s.view.record().name) : a->name;
    if (study.empty()) throw UsageError("--name", "the study name is empty");

    std::string header = fmt::format(
        "# Narrowed by `caviar zoom` from study '{}': the box around the best {} of its {} "
        "complete trials\n# (keep {}, margin {}; best value {}), rounded outward on each "
        "parameter's scale.\n",
        s.view.record().name, box.kept, box.trials, detail::shortest(a->keep),
        detail::shortest(a->margin), fmt::format("{:.6g}", *best->value));
    std::string parameters = parameters_block(narrowed, space, best);
    std::string text;
    if (s.config) {
      std::ifstream in(s.config->file);
      std::string original((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
      fs::path base = fs::absolute(s.config->file).parent_path();
      auto loads = [&](const std::string& candidate) {  // reads back as the narrowed space?
        if (candidate.empty()) return false;
        try {
          Config c = parse_config(candidate, base, a->out);
          return c.study.name == study && c.study.space.to_config_json() == narrowed.to_config_json();
        } catch (const Error&) {
          return false;
        }
      };
      text = header + replace_in_text(original, study, parameters);
      if (!loads(text)) text = header + config_afresh(s.config->raw, study, parameters);
      if (!loads(text))
        throw UsageError(a->out, "could not write a config that reads back as the narrowed space");
      fs::path out_dir = fs::absolute(a->out).parent_path();
      fs::path config_dir = fs::absolute(s.config->file).parent_path();
      if (fs::weakly_canonical(out_dir) != fs::weakly_canonical(config_dir))
        fmt::print(stderr,
                   "caviar: note: {} is in another folder than {}; relative paths in it (storage, "
                   "workdir, trial_dir, files the command reads) now resolve against {}\n",
                   a->out, s.config->file.string(), out_dir.string());
    } else {
      text = header + "# objective:, sampler: and budget: are not stored with a study: add them "
                      "before `caviar tune`.\n" +
             storage_lines(storage_url(a->where.storage, nullptr), yaml_key(study),
                           to_string(s.view.record().direction)) +
             parameters;
    }
    std::ofstream out(a->out, std::ios::trunc);
    if (!out) throw UsageError(a->out, "cannot write this file");
    out << text;
    out.close();
    if (!out) throw UsageError(a->out, "cannot write this file");

    fmt::print("wrote {}: study '{}', the box around the best {} of {} complete trials of '{}'\n",
               a->out, study, box.kept, box.trials, s.view.record().name);
    for (const auto& p : space.params()) {
      const Parameter* q = narrowed.find(p.name);
      fmt::print("  {:<16} {} -> {}\n", p.name, range_text(p), q ? range_text(*q) : "left out");
    }
  });
});

}  // namespace
}  // namespace caviar::cli
