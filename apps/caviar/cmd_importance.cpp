// caviar importance: which hyperparameters matter (fANOVA over the study's complete trials).
//
//   caviar importance study.yaml                       # a table with bars
//   caviar importance --storage URL --study S --format json
#include <algorithm>
#include <cmath>
#include <string>

#include <fmt/core.h>

#include "caviar/error.h"
#include "caviar/importance.h"
#include "caviar/study.h"
#include "command.h"
#include "common.h"

namespace caviar::cli {
namespace {

struct Args {
  StudyLocation where;
  std::string format = "table";
  int trees = 64;
  std::uint64_t seed = 0;
  int pairs = 5;
  int min_samples_leaf = ImportanceOptions{}.min_samples_leaf;
};

std::string bar(double share, int width = 40) {
  int n = static_cast<int>(std::lround(std::clamp(share, 0.0, 1.0) * width));
  return std::string(static_cast<std::size_t>(n), '#');
}

std::string csv_field(const std::string& s) {
  if (s.find_first_of(",\"\n") == std::string::npos) return s;
  std::string out = "\"";
  for (char c : s) out += c == '"' ? std::string("\"\"") : std::string(1, c);
  return out + "\"";
}

CommandRegistrar importance_cmd(33, [](CLI::App& app) {
  auto a = std::make_shared<Args>();
  auto* cmd = app.add_subcommand("importance",
                                 "Rank the parameters by how much of the objective's variance each explains (fANOVA)");
  cmd->footer(
      "Fits a random forest to the study's complete trials (each parameter on its own scale)\n"
      "and decomposes it (functional ANOVA): a parameter's share is the fraction of the\n"
      "objective's variance over the whole search space that it explains alone; a pair's\n"
      "share is what the two explain together beyond their own effects. See docs/importance.md.");
  add_location_options(cmd, a->where);
  add_format_option(cmd, a->format);
  cmd->add_option("--trees", a->trees, "Trees in the random forest")->capture_default_str()
      ->check(CLI::Range(1, 100000));
  cmd->add_option("--seed", a->seed, "Seed of the forest (same seed, same output)")->capture_default_str();
  cmd->add_option("--min-samples-leaf", a->min_samples_leaf, "Fewest trials in a leaf of a tree")
      ->capture_default_str()->check(CLI::Range(1, 1000000));
  cmd->add_option("--pairs", a->pairs, "Pairs to show in the table (json and csv list all)")
      ->capture_default_str()->check(CLI::NonNegativeNumber);
  cmd->callback([a] {
    auto s = open_existing_study(a->where);
    auto trials = s.view.trials();
    SearchSpace space = s.view.space(trials);
    ImportanceOptions options;
    options.trees = a->trees;
    options.seed = a->seed;
    options.min_samples_leaf = a->min_samples_leaf;
    int complete = 0;
    for (const auto& t : trials)
      if (t.state == TrialState::Complete && t.value && std::isfinite(*t.value)) ++complete;
    if (complete < 2)
      throw UsageError("study '" + s.view.record().name + "'",
                       fmt::format("importance needs at least 2 complete trials with a value; it has {}", complete));
    Importance imp = importance(space, trials, s.view.record().direction, options);

    if (a->format == "json") {
      json doc = imp.to_json();
      doc["study"] = s.view.record().name;
      doc["method"] = "fanova";
      doc["trees"] = a->trees;
      doc["seed"] = a->seed;
      fmt::print("{}\n", doc.dump(2));
      return;
    }
    if (a->format == "csv") {
      fmt::print("kind,first,second,share\n");
      for (const auto& p : imp.params) fmt::print("param,{},,{:.6g}\n", csv_field(p.name), p.share);
      for (const auto& p : imp.pairs)
        fmt::print("pair,{},{},{:.6g}\n", csv_field(p.first), csv_field(p.second), p.share);
      return;
    }
    std::size_t width = 9;
    for (const auto& p : imp.params) width = std::max(width, p.name.size());
    fmt::print("importance in study '{}' (fANOVA over {} complete trials, {} trees, seed {})\n",
               s.view.record().name, imp.trials_used, a->trees, a->seed);
    fmt::print("{:<{}}  {:>6}\n", "parameter", width, "share");
    double mains = 0, pairs = 0;
    for (const auto& p : imp.params) {
      fmt::print("{:<{}}  {:>5.1f}%  {}\n", p.name, width, 100 * p.share, bar(p.share));
      mains += p.share;
    }
    for (const auto& p : imp.pairs) pairs += p.share;
    if (!imp.pairs.empty() && a->pairs > 0) {
      fmt::print("\ntop pairs (interaction beyond both main effects)\n");
      std::size_t pw = 4;
      int shown = std::min<int>(a->pairs, static_cast<int>(imp.pairs.size()));
      for (int i = 0; i < shown; ++i)
        pw = std::max(pw, imp.pairs[i].first.size() + imp.pairs[i].second.size() + 3);
      for (int i = 0; i < shown; ++i) {
        const auto& p = imp.pairs[i];
        fmt::print("{:<{}}  {:>5.1f}%  {}\n", p.first + " x " + p.second, pw, 100 * p.share, bar(p.share));
      }
    }
    fmt::print("\nmain effects explain {:.1f}% of the variance", 100 * mains);
    if (!imp.pairs.empty()) fmt::print(", pairs {:.1f}%, higher-order interactions the rest", 100 * pairs);
    fmt::print(".\n");
  });
});

}  // namespace
}  // namespace caviar::cli
