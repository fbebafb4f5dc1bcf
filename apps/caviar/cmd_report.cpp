// caviar report: write a study's plots as one self-contained HTML file (caviar/report.h).
//
//   caviar report study.yaml --out report.html
//   caviar report --storage sqlite:///caviar.db --study S --out report.html --top 5
#include <fstream>

#include <fmt/core.h>

#include "caviar/error.h"
#include "caviar/report.h"
#include "caviar/study.h"
#include "command.h"
#include "common.h"

namespace caviar::cli {
namespace {

struct Args {
  StudyLocation where;
  std::string out;
  int top = 4;
  std::string title;
};

CommandRegistrar report_cmd(34, [](CLI::App& app) {
  auto a = std::make_shared<Args>();
  auto* cmd = app.add_subcommand("report", "Write a study's plots as one HTML file that opens offline");
  cmd->footer(
      "The file holds plotly.js and the study's data, so it needs no network to view. It shows\n"
      "the best value so far, parameter importance, the trials on pairs of the most important\n"
      "parameters coloured by value (with the zoom sampler's boxes), one slice per parameter,\n"
      "parallel coordinates and the learning curves. See docs/report.md.");
  add_location_options(cmd, a->where);
  cmd->add_option("--out,-o", a->out, "The HTML file to write (replaced if it exists)")->required();
  cmd->add_option("--top", a->top, "Pair plots among this many most important parameters")
      ->capture_default_str()->check(CLI::Range(1, 1000));
  cmd->add_option("--title", a->title, "The page's title (default: caviar: <study>)");
  cmd->callback([a] {
    auto s = open_existing_study(a->where);
    auto trials = s.view.trials();
    // The space the trials were sampled in, as stored with the study; a bare study that
    // stores none falls back to the config's.
    SearchSpace space;
    try {
      space = s.view.space(trials);
    } catch (const UsageError&) {
      if (s.config) space = s.config->study.space;
    }
    ReportOptions options;
    options.top = a->top;
    options.title = a->title;
    if (s.config) options.metric = s.config->metric;
    options.retuned_from = linked_old_study(s.view.storage_handle(), s.view.record());
    std::string html = html_report(s.view.record(), space, trials, options);
    std::ofstream file(a->out, std::ios::binary | std::ios::trunc);
    if (!file) throw UsageError(a->out, "cannot write this file");
    file.write(html.data(), static_cast<std::streamsize>(html.size()));
    file.close();
    if (!file) throw UsageError(a->out, "writing the report failed");
    fmt::print("{}\n", a->out);
  });
});

}  // namespace
}  // namespace caviar::cli
