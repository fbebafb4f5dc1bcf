// The dashboard: a live web page over a study store (`caviar dashboard`, `caviar tune
// --dashboard`). docs/dashboard.md is the user's guide; this is the library's side.
//
// An HTTP server (cpp-httplib) serves one page app: plotly.js, web/dashboard.js and
// web/report.js are built into the library, so no request ever leaves the machine. Pages:
// the studies; a study (best so far, learning curves with the running trials live, a trial
// table to sort and filter, importance, pairs with the zoom boxes, slices, parallel
// coordinates, PBT's lineage); a trial (parameters, every metric per step, reason, stderr
// tail, the logs in its folder). A JSON API under /api/ feeds them, and server-sent events
// (/api/study/<id>/events) tell an open page that its study changed.
//
// Watching is reading: the dashboard writes nothing to the store but the controls a page
// gives a babysat model (through options.open_writer, when given; each needs the page's
// control key, a secret in the page itself, so that no other site's page can give one). It follows each study a page asked about within `follow_for` (or has an event
// stream open on) (detail::StudyWatch): every `poll` it reads the trials that are new
// since its last look and those it last saw running, and keeps a compact copy, so answers
// are bounded in size and time however large the study. A study no page asks about is
// not read again until one does (the studies list reads each on request).
//
// Bound to a loopback address (127.0.0.1, the default) it answers anyone on this machine;
// bound to any other address it makes a token (or takes options.token) and refuses every
// request without it (403): `?token=` in the URL once (the page then keeps it as a
// cookie), or `Authorization: Bearer <token>`.
#pragma once

#include <chrono>
#include <functional>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>

#include "caviar/storage.h"

namespace caviar {

struct DashboardOptions {
  std::string host = "127.0.0.1";
  int port = 8080;                          // 0: any free port (see Dashboard::port)
  std::string token;                        // off loopback: "" makes one
  std::chrono::milliseconds poll{500};      // how often an open study is read again
  std::chrono::milliseconds follow_for{60000};  // a study is followed this long after a page asked
  int max_streams = 32;                     // open event streams (pages) at most
  // What a study's value is called ("val_loss"), by study name, for the pages' labels
  // (a config's `metric:`); "value" for the others.
  std::map<std::string, std::string> metrics;
  // The one thing a page may write: a babysat model's controls (POST
  // /api/study/<id>/babysit, docs/babysit.md), through the storage this opens (called once,
  // at the first control). Null: the dashboard refuses them (403) and never writes.
  std::function<std::shared_ptr<Storage>()> open_writer;
};

class Dashboard {
 public:
  // Serves the studies in `storage`, which the dashboard only reads (open it with
  // OpenMode::ReadOnly). Throws ConfigError for a bad option.
  Dashboard(std::shared_ptr<Storage> storage, DashboardOptions options);
  ~Dashboard();  // stop()
  Dashboard(const Dashboard&) = delete;
  Dashboard& operator=(const Dashboard&) = delete;

  // Binds the address and serves from threads of its own. Throws UsageError naming the
  // address when it cannot be bound (in use, not this machine's).
  void start();
  // Stops serving: closes the open event streams and joins the threads. Idempotent.
  void stop();

  int port() const;                 // the port bound (after start)
  const std::string& token() const; // "" on loopback
  // The URL of the studies page, or of one study's page, with ?token= when there is one.
  std::string url(std::optional<std::int64_t> study_id = std::nullopt) const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace caviar
