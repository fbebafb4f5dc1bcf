// StudyWatch: one study as the dashboard follows it (include/caviar/dashboard.h).
//
// It keeps a compact copy of the study (per trial: number, state, value, times, its
// parameters as numbers, a learning curve of at most kCurvePoints points, a one-line
// reason and PBT's lineage) and brings it up to date with Storage::trials_after: each look
// reads the trials that are new since the last one and those it last saw running or
// waiting, nothing else. Every look that changed something is a new version; each trial
// remembers the version that last changed it, so a page asks only for what changed since
// the version it holds.
//
// The JSON it answers is the HTTP API's (docs/dashboard.md): bounded in size however many
// trials the study holds. Safe to use from several threads: refresh() and the readers take
// the watch's lock only to copy or change the compact copy, never while reading the store.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "caviar/space.h"
#include "caviar/compare.h"
#include "caviar/storage.h"

namespace caviar::detail {

// What the trial table shows: a filter, an order and a page.
struct TableQuery {
  std::vector<TrialState> states;      // empty: every state
  std::string sort = "number";         // "number", "value", "seconds" or a parameter's name
  bool descending = false;
  int offset = 0, limit = 50;
  std::string param;                   // filter on one parameter ("" none):
  std::optional<double> min, max;      //   its value in the user's units within [min, max]
  std::optional<std::string> choice;   //   or, for a choice, this value's text
};

// Milliseconds since 1970 (0 for none), and as ISO 8601 text in UTC
// ("2026-12-07T20:31:02.120Z"; null for none): the times the pages get.
std::int64_t epoch_ms(const std::optional<Clock::time_point>& t);
json utc_time(std::int64_t epoch_ms);

class StudyWatch {
 public:
  static constexpr int kCurvePoints = 100;     // per learning curve kept and sent
  // What a page can draw at once without stalling (SVG plots of a thousand points each,
  // one WebGL plot for the curves): the limits of what the study page is sent.
  static constexpr int kCurves = 200;          // learning curves on the study page
  static constexpr int kChanges = 400;         // changed trials sent at most, else "reset"
  static constexpr int kHistoryPoints = 1000;  // values on the best-so-far plot (and the improvements)
  static constexpr int kReportTrials = 1000;   // trials the analysis plots are drawn from
  static constexpr int kBatch = 2000;          // trials read per statement batch
  static constexpr std::chrono::seconds kPageAge{5};

  StudyWatch(std::shared_ptr<Storage> storage, StudyRecord record, std::string metric);
  ~StudyWatch();

  // Reads what is new since the last look. Returns true if something changed (a new
  // version). Throws StorageError if the store cannot be read.
  bool refresh();

  std::uint64_t version() const;
  const StudyRecord& record() const { return record_; }

  // The study's line on the studies page: id, name, direction, counts, best, last activity.
  json summary() const;
  // The study page's data (GET /api/study/<id>); `made_at`: the version it shows.
  json page(std::uint64_t* made_at = nullptr) const;
  // The same as JSON text, made again only when the study changed and the last one is
  // old (ten times what it took to make, at most kPageAge): a page that asks for it every
  // few seconds while a large study runs does not make the server draw the analysis
  // (fANOVA) each time. A page's data is consistent
  // with its "version": the page then asks for the changes since that version.
  std::shared_ptr<const std::string> page_text() const;
  // What changed after version `since` (GET /api/study/<id>/changes).
  json changes(std::uint64_t since) const;
  // One page of the trial table. Throws UsageError for a bad query.
  json table(const TableQuery& query) const;
  // Whether the copy holds a babysat model's segment (docs/babysit.md).
  bool babysat() const;
  // The bytes the compact copy holds, roughly (for the benchmark's memory report).
  std::size_t bytes() const;

 private:
  struct Row;
  std::shared_ptr<Storage> storage_;
  StudyRecord record_;
  std::string metric_;

  std::mutex refresh_mutex_;   // one look at a time
  mutable std::mutex mutex_;   // the copy below
  std::uint64_t version_ = 0;
  bool loaded_ = false;
  std::int64_t last_id_ = 0;              // the highest trial id read
  std::vector<std::int64_t> open_;        // ids of the trials last seen running or waiting
  std::vector<std::unique_ptr<Row>> rows_;   // by number
  SearchSpace space_;
  std::vector<std::string> names_;        // the parameters, in the space's order
  std::shared_ptr<const ComparedStudy> retuned_from_;  // a re-tuned study's old one, read once
  std::int64_t last_activity_ms_ = 0;

  mutable std::mutex page_mutex_;  // the page's text below, made by one request at a time
  mutable std::shared_ptr<const std::string> page_;
  mutable std::uint64_t page_version_ = 0;
  mutable std::chrono::steady_clock::time_point page_made_;
  mutable std::chrono::steady_clock::duration page_cost_{};

  Row make_row(const TrialRecord& t) const;
  bool apply(std::vector<TrialRecord> trials, const StudyRecord& fresh);
  TrialRecord as_record(const Row& row) const;
  json row_json(const Row& row) const;
  json counts_json() const;
  json best_json() const;
  const Row* best_row() const;
};

}  // namespace caviar::detail
