// The study report: one self-contained HTML file of interactive plots (`caviar report`).
//
// The page holds everything it needs: plotly.js (https://plotly.com/javascript/, MIT
// licence; built into the library from npm, see web/package.json), a small script of
// caviar's own (web/report.js) and the study's data as inline JSON. It opens offline, from
// disk or as an e-mail attachment, and loads nothing from the network. It shows
//   - the best value so far against the trial number (and every complete trial's value);
//   - the parameters' importance (fANOVA, caviar/importance.h) as bars;
//   - for each pair of the `top` most important parameters, the trials as points coloured
//     by their value (darker is better), on the parameters' own scales, with the zoom
//     sampler's boxes (study attribute "caviar:zoom") drawn as rectangles: the figures of
//     the "coarse to fine" lesson, drawn from the user's own study;
//   - one slice plot per parameter (value against the parameter);
//   - parallel coordinates of all parameters and the value;
//   - the learning curves (intermediate values) of all trials, pruned ones faded.
// docs/report.md says how to read each plot.
//
// Axes are on each parameter's scale: log parameters on a log axis; reverse_log
// parameters (β near 1) as 1 − β on a log axis, labelled "1 − name"; logit parameters on
// a logit axis (ticks at 0.01, 0.1, 0.5, ...); choices as categories, in their order.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "caviar/compare.h"
#include "caviar/space.h"
#include "caviar/storage.h"

namespace caviar {

struct ReportOptions {
  int top = 4;             // pair scatters among this many most important parameters (>= 1)
  std::string metric;      // what the value is called ("val_loss"); "" = "value"
  std::string title;       // the page's title; "" = "caviar: <study name>"
  // A re-tuned study's old study (linked_old_study in caviar/compare.h): the page then
  // draws the verdict, the old best on the new data beside the new best and the
  // importance old against new.
  std::shared_ptr<const ComparedStudy> retuned_from;
};

// The data the page plots, as JSON (embedded in the page; exposed for tests and tools):
//   {"study", "direction", "metric", "counts": {state: n}, "best": trial or null,
//    "params": [axis per parameter: {"name", "label", "type", "scale", "axis": "linear" |
//               "log" | "category", "transform": "identity" | "one_minus" | "logit" |
//               "index", "range": [lo, hi] in axis units (log10 for log axes),
//               "ticks": {"vals", "text"} in linear units (log10 / logit / index applied)}],
//    "trials": [{"number", "state", "value", "x": {name: plotted value}, "text": {name:
//                user value as text}, "curve": [[step, value], ...]}],
//    "history": {"number": [...], "value": [...], "best": [...]}   (complete trials)
//    "importance": {"trials_used", "params": [...], "pairs": [...]} or null,
//    "importance_note": why there is none, "top": [names], "pairs": [[a, b], ...],
//    "zoom": [{"round", "first_trial", "box": {name: [lo, hi] in plotted units}}],
//    "babysit": a babysat model's tree (babysit_tree in export.h) or null,
//    "retune": retune_verdict_data (compare.h) with options.retuned_from, or null}
// Plotted values: the user's value for linear and log axes, 1 − x for reverse_log, logit(x)
// for logit, the choice's index for choices. Throws ConfigError for a bad option.
json report_data(const StudyRecord& study, const SearchSpace& space,
                 const std::vector<TrialRecord>& trials, const ReportOptions& options = {});

// The whole HTML page. A study without complete trials (or without trials) gives a valid
// page that says so.
std::string html_report(const StudyRecord& study, const SearchSpace& space,
                        const std::vector<TrialRecord>& trials, const ReportOptions& options = {});

}  // namespace caviar
