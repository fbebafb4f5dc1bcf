// The dashboard's HTTP server (include/caviar/dashboard.h): routes, the token, the event
// streams and the thread that looks at the followed studies. What a study page shows is
// StudyWatch's (study_watch.h); the pages themselves are web/dashboard.js.
#include "caviar/dashboard.h"

#include <arpa/inet.h>

#include <algorithm>
#include <atomic>
#include <charconv>
#include <cmath>
#include <condition_variable>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <random>
#include <thread>

#include <fmt/core.h>
#include <httplib.h>

#include "analysis/dashboard/study_watch.h"
#include "analysis/web_assets.h"
#include "caviar/attributes.h"
#include "caviar/babysit.h"
#include "caviar/error.h"
#include "caviar/study_view.h"

namespace caviar {

namespace {

using detail::StudyWatch;
using detail::TableQuery;

constexpr std::size_t kLogTail = 64 * 1024;  // bytes of each log file a trial page shows
constexpr int kLogFiles = 20;                // log files listed at most

bool is_loopback(const std::string& host) {
  if (host == "localhost" || host == "::1") return true;
  in_addr v4{};
  return inet_pton(AF_INET, host.c_str(), &v4) == 1 && (ntohl(v4.s_addr) >> 24) == 127;
}

std::string make_token() {
  std::random_device device;  // the kernel's random numbers
  std::string token;
  for (int i = 0; i < 4; ++i) token += fmt::format("{:08x}", device());
  return token;
}

// Compares without stopping at the first difference.
bool same_secret(const std::string& a, const std::string& b) {
  if (a.size() != b.size()) return false;
  unsigned char diff = 0;
  for (std::size_t i = 0; i < a.size(); ++i) diff |= static_cast<unsigned char>(a[i] ^ b[i]);
  return diff == 0;
}

// JSON that never throws on text that is not UTF-8 (a log, a reason): bad bytes become U+FFFD.
std::string dump(const json& j) { return j.dump(-1, ' ', false, json::error_handler_t::replace); }

void send_json(httplib::Response& res, const json& j, int status = 200) {
  res.status = status;
  res.set_header("Cache-Control", "no-store");
  res.set_content(dump(j), "application/json");
}

void send_error(httplib::Response& res, int status, const std::string& why) {
  send_json(res, {{"error", why}}, status);
}

std::string escape_html(const std::string& text) {
  std::string out;
  for (char c : text) {
    switch (c) {
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '&': out += "&amp;"; break;
      case '"': out += "&quot;"; break;
      default: out += c;
    }
  }
  return out;
}

void send_not_found(httplib::Response& res, const std::string& what) {
  res.status = 404;
  res.set_content(fmt::format("<!doctype html><html><head><meta charset=\"utf-8\"><link rel=\"icon\" "
                              "href=\"data:,\"><title>caviar: not found</title></head><body><h1>Not found</h1>"
                              "<p>{}</p><p><a href=\"/\">All studies</a></p></body></html>",
                              escape_html(what)),
                  "text/html; charset=utf-8");
}

// The one page shell; web/dashboard.js draws the page named by data-page, and loads
// plotly.js and web/report.js itself when a page first draws a plot.
// `control`: the key a page sends with a babysat model's control (X-Caviar-Control), in the
// page itself so that only a page this server served (same origin) can read it.
void send_shell(httplib::Response& res, const std::string& page, const std::string& study,
                const std::string& trial, const std::string& control) {
  res.set_header("Cache-Control", "no-store");
  res.set_content(
      fmt::format("<!doctype html><html><head><meta charset=\"utf-8\"><title>caviar dashboard</title>"
                  "<link rel=\"icon\" href=\"data:,\"><link rel=\"stylesheet\" href=\"/assets/dashboard.css\">"
                  "</head><body><div id=\"caviar-dashboard\" data-page=\"{}\" data-study=\"{}\" data-trial=\"{}\" "
                  "data-control=\"{}\"></div><script src=\"/assets/dashboard.js\"></script></body></html>",
                  page, study, trial, control),
      "text/html; charset=utf-8");
}

// A whole number from a route or a query; nullopt if it is not one.
template <class Int>
std::optional<Int> whole(const std::string& text) {
  Int v{};
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || end != text.data() + text.size()) return std::nullopt;
  return v;
}

std::optional<double> real(const httplib::Request& req, const char* name) {
  if (!req.has_param(name) || req.get_param_value(name).empty()) return std::nullopt;
  const std::string text = req.get_param_value(name);
  char* end = nullptr;
  const double v = std::strtod(text.c_str(), &end);
  if (end != text.c_str() + text.size() || !std::isfinite(v)) throw UsageError(name, "not a number: " + text);
  return v;
}

// The last kLogTail bytes of each regular file in a trial's folder.
json trial_logs(const std::string& folder) {
  namespace fs = std::filesystem;
  json logs = json::array();
  std::error_code ec;
  std::vector<fs::path> files;
  for (fs::directory_iterator it(folder, ec), end; !ec && it != end; it.increment(ec))
    if (it->is_regular_file(ec)) files.push_back(it->path());
  std::sort(files.begin(), files.end());
  for (const fs::path& path : files) {
    if (logs.size() >= static_cast<std::size_t>(kLogFiles)) break;
    std::ifstream in(path, std::ios::binary);
    if (!in) continue;
    in.seekg(0, std::ios::end);
    const auto size = static_cast<std::size_t>(std::max<std::streamoff>(0, in.tellg()));
    const std::size_t from = size > kLogTail ? size - kLogTail : 0;
    in.seekg(static_cast<std::streamoff>(from));
    std::string text(size - from, '\0');
    in.read(text.data(), static_cast<std::streamsize>(text.size()));
    text.resize(static_cast<std::size_t>(std::max<std::streamsize>(0, in.gcount())));
    logs.push_back({{"name", path.filename().string()}, {"size", size}, {"text", text}, {"truncated", from > 0}});
  }
  return logs;
}

json trial_json(const TrialRecord& t) {
  json params = json::object();
  for (const auto& [name, internal] : t.params) params[name] = t.user_value(name);
  json curve = json::array();
  for (const auto& [step, v] : t.intermediate) curve.push_back({step, std::isfinite(v) ? json(v) : json(nullptr)});
  auto attr = [&](const char* key) { return t.system_attrs.value(key, json(nullptr)); };
  auto time = [](const std::optional<Clock::time_point>& p) { return detail::utc_time(detail::epoch_ms(p)); };
  return {{"number", t.number},
          {"state", to_string(t.state)},
          {"value", t.value && std::isfinite(*t.value) ? json(*t.value) : json(nullptr)},
          {"params", params},
          {"started", time(t.started)},
          {"finished", time(t.finished)},
          {"seconds", t.started && t.finished ? json(t.duration_seconds()) : json(nullptr)},
          {"reason", t.reason().empty() ? json(nullptr) : json(t.reason())},
          {"metrics", attr(attr::kMetrics)},
          {"intermediate", curve},
          {"stderr_tail", attr(attr::kStderrTail)},
          {"exit_code", attr(attr::kExitCode)},
          {"signal", attr(attr::kSignal)},
          {"trial_dir", attr(attr::kTrialDir)},
          {"system_attrs", t.system_attrs},
          {"user_attrs", t.user_attrs}};
}

}  // namespace

struct Dashboard::Impl {
  std::shared_ptr<Storage> storage;
  DashboardOptions options;
  std::string control = make_token();  // the key of a page's controls (send_shell)
  std::mutex writer_mutex;
  std::shared_ptr<Storage> writer;      // opened at the first control
  httplib::Server server;
  std::thread listener, looker;
  int port = 0;
  bool started = false;

  using Time = std::chrono::steady_clock::time_point;
  // A study the dashboard has a copy of. It is followed (read again every `poll`) while a
  // page asked about it within `follow_for` or holds an event stream on it; else its copy
  // waits, and is brought up to date when a page asks again.
  struct Watched {
    std::shared_ptr<StudyWatch> watch;
    Time asked{};   // the last request about this study (none: the epoch)
    Time looked{};  // the last look at the store
    int streams = 0;  // open event streams on this study alone
  };

  std::mutex mutex;  // watches, versions, stopping
  std::condition_variable changed;  // a followed study has a new version, or stopping
  std::map<std::int64_t, Watched> watches;
  std::uint64_t changes = 0;        // counts every new version of any study
  bool stopping = false;
  std::atomic<int> streams{0};

  bool followed(const Watched& w, Time now) const { return w.streams > 0 || now - w.asked < options.follow_for; }

  // A look at one study; a new version wakes the event streams.
  void look_at(StudyWatch& w) {
    if (!w.refresh()) return;
    std::lock_guard lock(mutex);
    ++changes;
    changed.notify_all();
  }

  // The watch of a study, made (and its first look taken) at the first request; nullptr
  // for a study that is not in the store. `ask`: a page asks about this study (it is
  // followed from now on, for a while); else (the studies list) a study not followed is
  // read at most every `poll`, on request.
  std::shared_ptr<StudyWatch> watch(std::int64_t id, bool ask) {
    const Time now = std::chrono::steady_clock::now();
    std::shared_ptr<StudyWatch> w;
    bool look = false;
    {
      std::lock_guard lock(mutex);
      if (auto it = watches.find(id); it != watches.end()) {
        Watched& found = it->second;
        look = !followed(found, now) && now - found.looked >= options.poll;
        if (look) found.looked = now;
        if (ask) found.asked = now;
        w = found.watch;
      }
    }
    if (w) {
      // Not followed until now: its copy may be old, so the answer waits for a look.
      if (look) {
        try {
          look_at(*w);
        } catch (const std::exception&) {
          // the store is away for a moment: the copy as it was
        }
      }
      return w;
    }
    for (StudyRecord& s : storage->studies()) {
      if (s.id != id) continue;
      const auto metric = options.metrics.find(s.name);
      w = std::make_shared<StudyWatch>(storage, std::move(s), metric == options.metrics.end() ? "" : metric->second);
    }
    if (!w) return nullptr;
    w->refresh();
    std::lock_guard lock(mutex);
    auto [it, inserted] = watches.emplace(id, Watched{w, ask ? now : Time{}, now, 0});
    if (inserted) ++changes;
    else if (ask) it->second.asked = now;
    changed.notify_all();
    return it->second.watch;
  }

  // Every `poll`, a look at each followed study; a page's requests only read the copies.
  void look() {
    std::unique_lock lock(mutex);
    while (!stopping) {
      changed.wait_for(lock, options.poll, [&] { return stopping; });
      if (stopping) break;
      const Time now = std::chrono::steady_clock::now();
      std::vector<std::shared_ptr<StudyWatch>> due;
      for (auto& [id, w] : watches)
        if (followed(w, now)) {
          w.looked = now;
          due.push_back(w.watch);
        }
      lock.unlock();
      bool any = false;
      for (auto& w : due) {
        try {
          any |= w->refresh();
        } catch (const std::exception&) {
          // the store is away for a moment (a restarted server): the next look tries again
        }
      }
      lock.lock();
      if (any) {
        ++changes;
        changed.notify_all();
      }
    }
  }

  // An event stream: the versions of `only` (or of every followed study), at once and
  // whenever they change; a comment every 15 s keeps proxies from closing it.
  void stream(httplib::Response& res, std::optional<std::int64_t> only) {
    if (streams.fetch_add(1) >= options.max_streams) {
      streams.fetch_sub(1);
      send_error(res, 503, "too many open event streams");
      return;
    }
    res.set_header("Cache-Control", "no-store");
    if (only) {
      std::lock_guard lock(mutex);
      if (auto it = watches.find(*only); it != watches.end()) ++it->second.streams;
    }
    auto sent = std::make_shared<std::map<std::int64_t, std::uint64_t>>();
    res.set_chunked_content_provider(
        "text/event-stream",
        [this, only, sent, first = true, seen = std::uint64_t{0}](std::size_t, httplib::DataSink& sink) mutable {
          std::vector<std::pair<std::int64_t, std::uint64_t>> now;
          {
            std::unique_lock lock(mutex);
            if (!first)
              changed.wait_for(lock, std::chrono::seconds(15), [&] { return stopping || changes != seen; });
            first = false;
            seen = changes;
            if (stopping) {
              sink.done();
              return true;
            }
            for (auto& [id, w] : watches)
              if (!only || id == *only) now.emplace_back(id, w.watch->version());
          }
          std::string text;
          for (auto [id, version] : now) {
            auto& last = (*sent)[id];
            if (last == version) continue;
            last = version;
            text += fmt::format("event: version\ndata: {{\"study\": {}, \"version\": {}}}\n\n", id, version);
          }
          if (text.empty()) text = ": still here\n\n";
          return sink.write(text.data(), text.size());
        },
        [this, only](bool) {
          streams.fetch_sub(1);
          if (!only) return;
          std::lock_guard lock(mutex);
          if (auto it = watches.find(*only); it != watches.end()) {
            --it->second.streams;
            it->second.asked = std::chrono::steady_clock::now();  // followed a while longer
          }
        });
  }

  bool authorised(const httplib::Request& req, httplib::Response& res) {
    if (options.token.empty()) return true;
    if (req.has_param("token") && same_secret(req.get_param_value("token"), options.token)) {
      res.set_header("Set-Cookie", "caviar_token=" + options.token + "; Path=/; HttpOnly; SameSite=Strict");
      return true;
    }
    const std::string auth = req.get_header_value("Authorization");
    if (auth.rfind("Bearer ", 0) == 0 && same_secret(auth.substr(7), options.token)) return true;
    const std::string cookies = req.get_header_value("Cookie");
    for (std::size_t at = cookies.find("caviar_token="); at != std::string::npos;
         at = cookies.find("caviar_token=", at + 1)) {
      if (at > 0 && cookies[at - 1] != ' ' && cookies[at - 1] != ';') continue;
      const std::size_t from = at + 13, end = cookies.find(';', from);
      if (same_secret(cookies.substr(from, end == std::string::npos ? std::string::npos : end - from),
                      options.token))
        return true;
    }
    return false;
  }

  void routes();
};

void Dashboard::Impl::routes() {
  auto& s = server;
  s.set_pre_routing_handler([this](const httplib::Request& req, httplib::Response& res) {
    // No compression: Debian's cpp-httplib compresses every text/ answer with Brotli at its
    // highest quality when the browser accepts it, which took 14 s for plotly.js and held
    // back the event stream's events in the compressor. Everything here is small or local.
    // (The request object is cpp-httplib's own, not const: the handler only sees it so.)
    const_cast<httplib::Request&>(req).headers.erase("Accept-Encoding");
    res.set_header("X-Content-Type-Options", "nosniff");
    res.set_header("Referrer-Policy", "no-referrer");
    if (authorised(req, res)) return httplib::Server::HandlerResponse::Unhandled;
    res.status = 403;
    res.set_content("caviar dashboard: this address needs the token that `caviar dashboard` printed "
                    "(open the URL it printed, with ?token=...)\n",
                    "text/plain; charset=utf-8");
    return httplib::Server::HandlerResponse::Handled;
  });
  s.set_exception_handler([](const httplib::Request&, httplib::Response& res, std::exception_ptr ep) {
    try {
      std::rethrow_exception(ep);
    } catch (const UsageError& e) {
      send_error(res, 400, e.what());
    } catch (const std::exception& e) {
      send_error(res, 500, e.what());
    } catch (...) {
      send_error(res, 500, "unknown error");
    }
  });

  // ---- pages ----
  s.Get("/", [this](const httplib::Request&, httplib::Response& res) { send_shell(res, "studies", "", "", control); });
  s.Get(R"(/study/(\d{1,18}))", [this](const httplib::Request& req, httplib::Response& res) {
    auto id = whole<std::int64_t>(req.matches[1]);
    if (!id || !watch(*id, false)) return send_not_found(res, fmt::format("No study with id {}.", std::string(req.matches[1])));
    send_shell(res, "study", std::to_string(*id), "", control);
  });
  s.Get(R"(/study/(\d{1,18})/trial/(\d{1,9}))", [this](const httplib::Request& req, httplib::Response& res) {
    auto id = whole<std::int64_t>(req.matches[1]);
    auto number = whole<int>(req.matches[2]);
    if (!id || !number || !watch(*id, false) || !storage->trial(*id, *number))
      return send_not_found(res, fmt::format("No trial {} in study {}.", std::string(req.matches[2]),
                                             std::string(req.matches[1])));
    send_shell(res, "trial", std::to_string(*id), std::to_string(*number), control);
  });
  auto asset = [&s](const char* path, std::string_view body, const char* type) {
    s.Get(path, [body, type](const httplib::Request&, httplib::Response& res) {
      res.set_header("Cache-Control", "max-age=3600");
      res.set_content(body.data(), body.size(), type);
    });
  };
  asset("/assets/plotly.js", detail::plotly_js(), "text/javascript; charset=utf-8");
  asset("/assets/report.js", detail::report_js(), "text/javascript; charset=utf-8");
  asset("/assets/dashboard.js", detail::dashboard_js(), "text/javascript; charset=utf-8");
  asset("/assets/dashboard_worker.js", detail::dashboard_worker_js(), "text/javascript; charset=utf-8");
  asset("/assets/dashboard.css", detail::dashboard_css(), "text/css; charset=utf-8");

  // ---- the API ----
  // The studies list does not make the server follow every study: each is read on request.
  s.Get("/api/studies", [this](const httplib::Request&, httplib::Response& res) {
    json list = json::array();
    for (const StudyRecord& study : storage->studies())
      if (auto w = watch(study.id, false)) list.push_back(w->summary());
    send_json(res, {{"studies", list}});
  });
  // The study's watch, or a 404 answer. A study page's requests keep its study followed
  // (`ask`); a trial page reads the store itself and does not.
  auto with_watch = [this](const httplib::Request& req, httplib::Response& res,
                           bool ask = true) -> std::shared_ptr<StudyWatch> {
    auto id = whole<std::int64_t>(req.matches[1]);
    std::shared_ptr<StudyWatch> w = id ? watch(*id, ask) : nullptr;
    if (!w) send_error(res, 404, fmt::format("no study with id {}", std::string(req.matches[1])));
    return w;
  };
  s.Get(R"(/api/study/(\d{1,18}))", [with_watch](const httplib::Request& req, httplib::Response& res) {
    auto w = with_watch(req, res);
    if (!w) return;
    std::shared_ptr<const std::string> text = w->page_text();
    res.set_header("Cache-Control", "no-store");
    res.set_content(*text, "application/json");
  });
  s.Get(R"(/api/study/(\d{1,18})/changes)", [with_watch](const httplib::Request& req, httplib::Response& res) {
    auto w = with_watch(req, res);
    if (!w) return;
    auto since = whole<std::uint64_t>(req.get_param_value("since"));
    if (!since) return send_error(res, 400, "since: a version number is needed");
    send_json(res, w->changes(*since));
  });
  s.Get(R"(/api/study/(\d{1,18})/trials)", [with_watch](const httplib::Request& req, httplib::Response& res) {
    auto w = with_watch(req, res);
    if (!w) return;
    TableQuery q;
    if (req.has_param("state")) {
      const std::string list = req.get_param_value("state");
      for (std::size_t from = 0; from <= list.size();) {
        std::size_t comma = list.find(',', from);
        if (comma == std::string::npos) comma = list.size();
        if (comma > from) q.states.push_back(trial_state_from_string(list.substr(from, comma - from)));
        from = comma + 1;
      }
    }
    if (req.has_param("sort")) q.sort = req.get_param_value("sort");
    q.descending = req.get_param_value("desc") == "1";
    for (auto [name, field] : {std::pair{"offset", &q.offset}, std::pair{"limit", &q.limit}}) {
      if (!req.has_param(name)) continue;
      auto v = whole<int>(req.get_param_value(name));
      if (!v) return send_error(res, 400, fmt::format("{}: not a whole number", name));
      *field = *v;
    }
    q.param = req.get_param_value("param");
    q.min = real(req, "min");
    q.max = real(req, "max");
    if (req.has_param("choice")) q.choice = req.get_param_value("choice");
    send_json(res, w->table(q));
  });
  s.Get(R"(/api/study/(\d{1,18})/trial/(\d{1,9}))", [this, with_watch](const httplib::Request& req,
                                                                       httplib::Response& res) {
    auto w = with_watch(req, res, false);
    if (!w) return;
    auto number = whole<int>(req.matches[2]);
    std::optional<TrialRecord> t = number ? storage->trial(w->record().id, *number) : std::nullopt;
    if (!t) return send_error(res, 404, fmt::format("no trial {} in this study", std::string(req.matches[2])));
    json logs = json::array();
    if (auto dir = t->system_attrs.find(attr::kTrialDir); dir != t->system_attrs.end() && dir->is_string())
      logs = trial_logs(dir->get<std::string>());
    send_json(res, {{"trial", trial_json(*t)}, {"logs", logs}});
  });
  s.Get(R"(/api/study/(\d{1,18})/events)", [this, with_watch](const httplib::Request& req, httplib::Response& res) {
    if (auto w = with_watch(req, res)) stream(res, w->record().id);
  });
  s.Get("/api/events", [this](const httplib::Request&, httplib::Response& res) { stream(res, std::nullopt); });

  // A babysat model's control, from its study page: {"action", "params", "to", "note", "by"}.
  s.Post(R"(/api/study/(\d{1,18})/babysit)", [this](const httplib::Request& req, httplib::Response& res) {
    if (!same_secret(req.get_header_value("X-Caviar-Control"), control))
      return send_error(res, 403, "a control needs the key of a page this dashboard served (X-Caviar-Control)");
    if (!options.open_writer) return send_error(res, 403, "this dashboard only reads; steer with `caviar babysit`");
    auto id = whole<std::int64_t>(req.matches[1]);
    auto w = id ? watch(*id, true) : nullptr;
    if (!w) return send_error(res, 404, "no such study");
    if (!w->babysat()) throw UsageError("study", "no model is babysat in it");
    const json body = json::parse(req.body, nullptr, false);
    if (!body.is_object()) throw UsageError("body", "not a JSON object");
    auto text = [&](const char* key, const char* fallback) {
      auto it = body.find(key);
      if (it == body.end() || it->is_null()) return std::string(fallback);
      if (!it->is_string()) throw UsageError(key, "must be a string");
      return it->get<std::string>();
    };
    std::optional<std::int64_t> to;
    if (auto it = body.find("to"); it != body.end() && !it->is_null()) {
      if (!it->is_number_integer()) throw UsageError("to", "must be a whole number");
      to = it->get<std::int64_t>();
    }
    const std::string by = text("by", "dashboard");
    if (by != "dashboard" && by != "suggestion") throw UsageError("by", "is dashboard or suggestion");
    const BabysitControl c =
        make_babysit_control(text("action", ""), body.value("params", json::object()), to, by, text("note", ""));
    std::lock_guard lock(writer_mutex);
    if (!writer) writer = options.open_writer();
    const std::vector<TrialRecord> trials = writer->trials(*id);
    const BabysitRun run = babysit_run(trials);
    const auto record = writer->find_study(w->record().name);
    if (!record) return send_error(res, 404, "no such study");
    babysit_check(stored_space(record->system_attrs, trials), run, c, {});
    writer->set_study_attr(*id, babysit_control_key(c), babysit_control_json(c));
    res.set_content(json{{"stored", babysit_control_json(c)}}.dump(), "application/json");
  });

  // Everything else.
  s.Get(".*", [](const httplib::Request& req, httplib::Response& res) {
    if (req.path.rfind("/api/", 0) == 0) return send_error(res, 404, "no such route");
    send_not_found(res, "No page here.");
  });
}

Dashboard::Dashboard(std::shared_ptr<Storage> storage, DashboardOptions options) : impl_(new Impl) {
  if (options.port < 0 || options.port > 65535)
    throw ConfigError("port", fmt::format("must be 0 to 65535, not {}", options.port));
  if (options.poll < std::chrono::milliseconds(10)) throw ConfigError("poll", "must be at least 10 ms");
  if (options.max_streams < 1) throw ConfigError("max_streams", "must be at least 1");
  if (!is_loopback(options.host) && options.token.empty()) options.token = make_token();
  if (is_loopback(options.host)) options.token.clear();
  impl_->storage = std::move(storage);
  impl_->options = std::move(options);
}

Dashboard::~Dashboard() { stop(); }

void Dashboard::start() {
  Impl& d = *impl_;
  if (d.started) return;
  // Threads for the open event streams (each holds one) and for the requests beside them.
  const int threads = d.options.max_streams + 8;
  d.server.new_task_queue = [threads] { return new httplib::ThreadPool(static_cast<std::size_t>(threads)); };
  // SO_REUSEADDR only: cpp-httplib's default also sets SO_REUSEPORT, which lets a second
  // server bind a port that is in use (and share its requests).
  d.server.set_socket_options([](socket_t sock) {
    int yes = 1;
    setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof yes);
  });
  d.server.set_payload_max_length(64 * 1024);
  d.server.set_read_timeout(5, 0);
  d.server.set_write_timeout(5, 0);
  d.routes();
  const std::string where = fmt::format("{}:{}", d.options.host, d.options.port);
  if (d.options.port == 0) {
    d.port = d.server.bind_to_any_port(d.options.host);
    if (d.port < 0) throw UsageError(where, "cannot listen here (is the host an address of this machine?)");
  } else {
    if (!d.server.bind_to_port(d.options.host, d.options.port))
      throw UsageError(where, "cannot listen here (the port is in use, or the host is not this machine's)");
    d.port = d.options.port;
  }
  d.started = true;
  d.listener = std::thread([&d] { d.server.listen_after_bind(); });
  d.looker = std::thread([&d] { d.look(); });
}

void Dashboard::stop() {
  Impl& d = *impl_;
  if (!d.started) return;
  {
    std::lock_guard lock(d.mutex);
    d.stopping = true;
  }
  d.changed.notify_all();
  d.server.stop();
  if (d.listener.joinable()) d.listener.join();
  if (d.looker.joinable()) d.looker.join();
  d.started = false;
}

int Dashboard::port() const { return impl_->port; }
const std::string& Dashboard::token() const { return impl_->options.token; }

std::string Dashboard::url(std::optional<std::int64_t> study_id) const {
  const std::string& host = impl_->options.host;
  std::string shown = host.find(':') != std::string::npos ? "[" + host + "]" : host;
  if (host == "0.0.0.0" || host == "::") shown = "127.0.0.1";  // every address: this machine's is one
  std::string url = fmt::format("http://{}:{}/", shown, impl_->port);
  if (study_id) url += fmt::format("study/{}", *study_id);
  if (!token().empty()) url += "?token=" + token();
  return url;
}

}  // namespace caviar
