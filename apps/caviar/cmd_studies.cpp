// caviar studies: list the studies in a storage.
#include <algorithm>

#include <fmt/core.h>

#include "caviar/retune.h"
#include "caviar/storage.h"
#include "command.h"
#include "common.h"

namespace caviar::cli {
namespace {

CommandRegistrar registrar(20, [](CLI::App& app) {
  struct Args { std::string storage; std::string format = "table"; };
  auto a = std::make_shared<Args>();
  auto* cmd = app.add_subcommand("studies", "List the studies in a storage");
  cmd->add_option("--storage", a->storage, "Storage URL (default: $CAVIAR_STORAGE, else sqlite:///caviar.db)");
  add_format_option(cmd, a->format);
  cmd->callback([a] {
    auto storage = open_storage(storage_url(a->storage, nullptr), OpenMode::Existing);
    json rows = json::array();
    for (const auto& s : storage->studies()) {
      TrialCounts c = storage->counts(s.id);
      std::optional<TrialRecord> top = storage->best(s.id, s.direction);
      const auto link = retune_link(s);
      std::optional<double> best = top ? top->value : std::nullopt;
      rows.push_back({{"name", s.name}, {"direction", to_string(s.direction)},
                      {"trials", c.total()}, {"complete", c.complete}, {"pruned", c.pruned},
                      {"failed", c.failed}, {"running", c.running},
                      {"best", best ? json(*best) : json(nullptr)},
                      {"retuned_from", link ? json(link->from) : json(nullptr)}});
    }
    if (a->format == "json") {
      fmt::print("{}\n", rows.dump(2));
    } else if (a->format == "csv") {
      fmt::print("name,direction,trials,complete,pruned,failed,running,best\n");
      for (const auto& r : rows)
        fmt::print("{},{},{},{},{},{},{},{}\n", r["name"].get<std::string>(), r["direction"].get<std::string>(),
                   r["trials"].get<int>(), r["complete"].get<int>(), r["pruned"].get<int>(), r["failed"].get<int>(),
                   r["running"].get<int>(), r["best"].is_null() ? "" : r["best"].dump());
    } else {
      // A re-tuned study names the one it came from: the chain, old to new.
      const bool chains = std::any_of(rows.begin(), rows.end(), [](const json& r) { return !r["retuned_from"].is_null(); });
      fmt::print("{:<24} {:<9} {:>7} {:>9} {:>7} {:>7} {:>8}  {:<10}{}\n", "study", "direction", "trials",
                 "complete", "pruned", "failed", "running", "best", chains ? "  re-tuned from" : "");
      for (const auto& r : rows)
        fmt::print("{:<24} {:<9} {:>7} {:>9} {:>7} {:>7} {:>8}  {:<10}{}\n", r["name"].get<std::string>(),
                   r["direction"].get<std::string>(), r["trials"].get<int>(), r["complete"].get<int>(),
                   r["pruned"].get<int>(), r["failed"].get<int>(), r["running"].get<int>(),
                   r["best"].is_null() ? "-" : fmt::format("{:.6g}", r["best"].get<double>()),
                   !chains ? "" : r["retuned_from"].is_null() ? "  -" : "  " + r["retuned_from"].get<std::string>());
    }
  });
});

}  // namespace
}  // namespace caviar::cli
