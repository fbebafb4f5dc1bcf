// The dashboard's server (caviar/dashboard.h) over real stores, through real HTTP: what
// each route answers, that it never writes the store, that changes arrive without reading
// the whole study again, the token off loopback, and that malformed requests never take
// it down. The pages themselves are tested in Chromium (tests/dashboard_in_browser.sh).
#include <gtest/gtest.h>
#include <httplib.h>

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cmath>
#include <filesystem>
#include <random>
#include <thread>

#include "caviar/attributes.h"
#include "caviar/dashboard.h"
#include "caviar/study.h"
#include "support/cli.h"
#include "support/files.h"
#include "support/stores.h"

using namespace caviar;
using caviar::testing::poll_until;
namespace fs = std::filesystem;

namespace {

StudyOptions small_study() {
  StudyOptions o;
  o.name = "watched";
  o.space = SearchSpace::from_config_json(json::parse(
      R"({"lr": {"type": "float", "low": 1e-4, "high": 1, "scale": "log"},
          "opt": {"type": "choice", "values": ["sgd", "adam"]}})"));
  return o;
}

// Trials 0-5 with curves: 0-4 complete (values 5, 4, ..., 1), 5 told NaN (so failed);
// then one pruned, one failed with a reason, one running; trial 0 has a folder with a log.
void fill(Study& study, const fs::path& logs) {
  for (int i = 0; i < 6; ++i) {
    auto t = study.ask();
    for (int step = 1; step <= 3; ++step) study.storage().report(t->id(), step, 10.0 - i - step);
    study.tell(*t, i < 5 ? 5.0 - i : std::nan(""));
    if (i == 0) {
      fs::create_directories(logs);
      caviar::testing::write_file(logs / "stdout.log", "epoch=1 loss=3\n<b>not html</b>\n");
      study.storage().set_trial_attr(t->id(), attr::kTrialDir, logs.string());
    }
  }
  auto pruned = study.ask();
  study.storage().report(pruned->id(), 1, 9.0);
  study.tell_pruned(*pruned);
  auto failed = study.ask();
  study.tell_failed(*failed, "exit code 2: boom");
  study.ask();  // running
}

json get_json(httplib::Client& c, const std::string& path, int status = 200) {
  auto res = c.Get(path.c_str());
  if (!res) {
    ADD_FAILURE() << path << ": no answer";
    return nullptr;
  }
  EXPECT_EQ(res->status, status) << path << "\n" << res->body;
  EXPECT_EQ(res->get_header_value("Content-Type"), "application/json") << path;
  return json::parse(res->body, nullptr, false);
}

int status_of(httplib::Client& c, const std::string& path, const httplib::Headers& headers = {}) {
  auto res = c.Get(path.c_str(), headers);
  return res ? res->status : -1;
}

class DashboardStores : public caviar::testing::EveryStore {};

}  // namespace

// Every route on every store, over a study with trials in each state.
TEST_P(DashboardStores, AnswersEveryRoute) {
  Study study(storage_, small_study());
  fill(study, tmp_.path() / "trial-0");
  const std::int64_t id = study.record().id;
  auto reader = GetParam() == "memory" ? storage_ : open_storage(url_, OpenMode::ReadOnly);
  DashboardOptions options;
  options.port = 0;
  Dashboard dashboard(reader, options);
  dashboard.start();
  EXPECT_TRUE(dashboard.token().empty()) << "127.0.0.1 needs no token";
  EXPECT_EQ(dashboard.url(id), "http://127.0.0.1:" + std::to_string(dashboard.port()) + "/study/" + std::to_string(id));
  httplib::Client c("127.0.0.1", dashboard.port());

  json studies = get_json(c, "/api/studies");
  ASSERT_EQ(studies["studies"].size(), 1u);
  const json& line = studies["studies"][0];
  EXPECT_EQ(line["name"], "watched");
  EXPECT_EQ(line["counts"], (json{{"complete", 5}, {"pruned", 1}, {"failed", 2}, {"running", 1}, {"waiting", 0}}));
  EXPECT_EQ(line["best"], (json{{"number", 4}, {"value", 1.0}}));
  EXPECT_TRUE(line["last_activity"].is_string());

  json page = get_json(c, "/api/study/" + std::to_string(id));
  EXPECT_EQ(page["best_steps"]["number"], (json{0, 1, 2, 3, 4}));
  EXPECT_EQ(page["history"]["value"], (json{5.0, 4.0, 3.0, 2.0, 1.0}));
  EXPECT_EQ(page["curves_total"], 7);  // trials 0-5 and the pruned one report
  EXPECT_EQ(page["curves"][0]["curve"], (json{{1, 9.0}, {2, 8.0}, {3, 7.0}}));
  EXPECT_EQ(page["report"]["params"].size(), 2u);
  EXPECT_EQ(page["report_of"], 9);
  EXPECT_TRUE(page["lineage"].empty());
  const std::uint64_t version = page["version"];

  json changes = get_json(c, "/api/study/" + std::to_string(id) + "/changes?since=0");
  EXPECT_EQ(changes["trials"].size(), 9u);
  changes = get_json(c, "/api/study/" + std::to_string(id) + "/changes?since=" + std::to_string(version));
  EXPECT_TRUE(changes["trials"].empty());
  EXPECT_EQ(get_json(c, "/api/study/" + std::to_string(id) + "/changes?since=99999")["reset"], true);

  const std::string table = "/api/study/" + std::to_string(id) + "/trials";
  json rows = get_json(c, table + "?state=complete&sort=value&desc=1&limit=2");
  EXPECT_EQ(rows["total"], 5);
  ASSERT_EQ(rows["rows"].size(), 2u);
  EXPECT_EQ(rows["rows"][0]["number"], 0);  // 5.0 first
  EXPECT_EQ(rows["rows"][1]["number"], 1);
  EXPECT_EQ(rows["rows"][0]["params"]["opt"].is_string(), true);
  rows = get_json(c, table + "?state=failed,pruned&sort=value");
  ASSERT_EQ(rows["rows"].size(), 3u);
  EXPECT_EQ(rows["rows"][2]["number"], 7);  // no value: last
  EXPECT_EQ(rows["rows"][2]["reason"], "exit code 2: boom");
  const std::string opt = study.storage().trial(id, 0)->user_value("opt");
  rows = get_json(c, table + "?param=opt&choice=" + opt);
  for (const json& r : rows["rows"]) EXPECT_EQ(r["params"]["opt"], opt);
  rows = get_json(c, table + "?param=lr&min=0.5&max=1");
  for (const json& r : rows["rows"]) EXPECT_GE(std::stod(r["params"]["lr"].get<std::string>()), 0.5);
  EXPECT_EQ(get_json(c, table + "?sort=nope", 400)["error"].get<std::string>().find("sort"), 0u);
  get_json(c, table + "?limit=100000", 400);
  get_json(c, table + "?state=sleeping", 400);
  get_json(c, table + "?param=lr&min=abc", 400);

  json trial = get_json(c, "/api/study/" + std::to_string(id) + "/trial/0");
  EXPECT_EQ(trial["trial"]["value"], 5.0);
  EXPECT_EQ(trial["trial"]["intermediate"].size(), 3u);
  ASSERT_EQ(trial["logs"].size(), 1u);
  EXPECT_EQ(trial["logs"][0]["name"], "stdout.log");
  EXPECT_NE(trial["logs"][0]["text"].get<std::string>().find("<b>not html</b>"), std::string::npos);
  EXPECT_EQ(get_json(c, "/api/study/" + std::to_string(id) + "/trial/7")["trial"]["reason"], "exit code 2: boom");

  // Pages, assets, and what is not there.
  EXPECT_EQ(status_of(c, "/"), 200);
  EXPECT_EQ(status_of(c, "/study/" + std::to_string(id)), 200);
  EXPECT_EQ(status_of(c, "/study/" + std::to_string(id) + "/trial/3"), 200);
  for (const char* asset : {"/assets/plotly.js", "/assets/report.js", "/assets/dashboard.js",
                            "/assets/dashboard_worker.js", "/assets/dashboard.css"}) {
    auto res = c.Get(asset);
    ASSERT_TRUE(res) << asset;
    EXPECT_EQ(res->status, 200) << asset;
    EXPECT_GT(res->body.size(), 100u) << asset;
  }
  EXPECT_EQ(status_of(c, "/study/999"), 404);
  EXPECT_EQ(status_of(c, "/study/" + std::to_string(id) + "/trial/99"), 404);
  EXPECT_EQ(status_of(c, "/study/99999999999999999999"), 404);
  EXPECT_EQ(status_of(c, "/nope"), 404);
  get_json(c, "/api/study/999", 404);
  get_json(c, "/api/study/" + std::to_string(id) + "/trial/99", 404);
  get_json(c, "/api/nope", 404);
  dashboard.stop();
}

INSTANTIATE_TEST_SUITE_P(Stores, DashboardStores, ::testing::Values("memory", "sqlite", "postgres"));

// Watching is reading: a session of every route leaves the SQLite file's bytes as they were.
TEST(Dashboard, LeavesTheStoreFileAsItWas) {
  caviar::testing::TempDir tmp;
  const fs::path db = tmp.path() / "s.db";
  const std::string url = "sqlite:///" + db.string();
  std::int64_t id = 0;
  {
    auto writer = open_storage(url);
    Study study(writer, small_study());
    fill(study, tmp.path() / "trial-0");
    id = study.record().id;
  }  // closed: its WAL is checkpointed into the file
  const std::string before = caviar::testing::read_file(db);
  {
    DashboardOptions options;
    options.port = 0;
    options.poll = std::chrono::milliseconds(20);
    Dashboard dashboard(open_storage(url, OpenMode::ReadOnly), options);
    dashboard.start();
    httplib::Client c("127.0.0.1", dashboard.port());
    for (std::string path : {"/", "/api/studies", "/api/study/1", "/api/study/1/changes?since=0",
                             "/api/study/1/trials?sort=lr", "/api/study/1/trial/0", "/study/1/trial/0"})
      EXPECT_EQ(status_of(c, path), 200) << path;
    std::this_thread::sleep_for(std::chrono::milliseconds(200));  // looks at the study, 10 times
  }
  EXPECT_EQ(caviar::testing::read_file(db), before);
  EXPECT_EQ(id, 1);
}

namespace {

// A real store that counts what the dashboard reads through it.
class CountingStore : public Storage {
 public:
  explicit CountingStore(std::shared_ptr<Storage> inner) : inner_(std::move(inner)) {}
  std::atomic<int> whole_reads{0}, rows_read{0}, looks{0};
  std::atomic<std::int64_t> old_up_to{0};  // trials with ids up to this one are old:
  std::atomic<int> old_rows_read{0};       // how often one was read again

  StudyRecord open_study(const std::string& n, Direction d) override { return inner_->open_study(n, d); }
  std::optional<StudyRecord> find_study(const std::string& n) override { return inner_->find_study(n); }
  std::vector<StudyRecord> studies() override { return inner_->studies(); }
  void set_study_attr(std::int64_t s, const std::string& k, const json& v) override { inner_->set_study_attr(s, k, v); }
  std::optional<TrialRecord> start_trial(const StartRequest& r) override { return inner_->start_trial(r); }
  TrialRecord enqueue_trial(std::int64_t s, const json& p, const json& a) override { return inner_->enqueue_trial(s, p, a); }
  void report(std::int64_t t, std::int64_t s, double v) override { inner_->report(t, s, v); }
  void set_trial_param(std::int64_t t, const Parameter& p, double v) override { inner_->set_trial_param(t, p, v); }
  void set_trial_attr(std::int64_t t, const std::string& k, const json& v) override { inner_->set_trial_attr(t, k, v); }
  void heartbeat(const std::vector<std::int64_t>& ids) override { inner_->heartbeat(ids); }
  bool finish_trial(std::int64_t t, TrialState s, std::optional<double> v, const json& a,
                    const std::optional<Requeue>& r) override {
    return inner_->finish_trial(t, s, v, a, r);
  }
  std::vector<TrialRecord> fail_stale(std::int64_t s, std::chrono::milliseconds g) override { return inner_->fail_stale(s, g); }
  std::vector<TrialRecord> rerun_failed(std::int64_t s, const SearchSpace& sp) override { return inner_->rerun_failed(s, sp); }
  void delete_study(std::int64_t s) override { inner_->delete_study(s); }
  std::vector<TrialRecord> trials(std::int64_t s) override {
    ++whole_reads;
    return inner_->trials(s);
  }
  std::vector<TrialRecord> trials_after(std::int64_t s, std::int64_t after, int limit,
                                        const std::vector<std::int64_t>& again) override {
    ++looks;
    auto out = inner_->trials_after(s, after, limit, again);
    rows_read += static_cast<int>(out.size());
    for (const auto& t : out)
      if (t.id <= old_up_to) ++old_rows_read;
    return out;
  }
  std::optional<TrialRecord> trial(std::int64_t s, int n) override { return inner_->trial(s, n); }
  TrialCounts counts(std::int64_t s) override { return inner_->counts(s); }

 private:
  std::shared_ptr<Storage> inner_;
};

}  // namespace

// A new trial, a report and a finished trial reach the page's questions (and its event
// stream) within 2 s, and the dashboard reads only the new trials and the open ones.
TEST(Dashboard, ChangesArriveWithoutReadingTheWholeStudyAgain) {
  caviar::testing::TempDir tmp;
  const std::string url = "sqlite:///" + (tmp.path() / "s.db").string();
  auto writer = open_storage(url);
  Study study(writer, small_study());
  for (int i = 0; i < 200; ++i) study.tell(*study.ask(), i);
  auto counting = std::make_shared<CountingStore>(open_storage(url, OpenMode::ReadOnly));
  DashboardOptions options;  // looks every 0.5 s, as caviar dashboard does
  options.port = 0;
  Dashboard dashboard(counting, options);
  dashboard.start();
  httplib::Client c("127.0.0.1", dashboard.port());
  const std::string base = "/api/study/" + std::to_string(study.record().id);
  std::uint64_t version = get_json(c, base)["version"];
  EXPECT_EQ(counting->rows_read.load(), 200);
  counting->old_up_to = study.storage().trial(study.record().id, 199)->id;

  // The event stream, read beside: versions of this study as they come.
  std::atomic<int> events{0};
  std::atomic<bool> done{false};
  std::thread stream([&] {
    httplib::Client s("127.0.0.1", dashboard.port());
    s.Get("/api/events", [&](const char* data, std::size_t n) {
      const std::string text(data, n);
      for (std::size_t at = text.find("event: version"); at != std::string::npos; at = text.find("event: version", at + 1))
        ++events;
      return !done.load();
    });
  });
  ASSERT_TRUE(poll_until([&] { return events.load() >= 1; }, std::chrono::seconds(2)));

  auto running = study.ask();
  writer->report(running->id(), 1, 0.5);
  json seen;
  auto arrives = [&](auto what) {
    return poll_until([&] {
      seen = get_json(c, base + "/changes?since=" + std::to_string(version));
      for (const json& t : seen["trials"]) if (what(t)) return true;
      return false;
    }, std::chrono::seconds(2));
  };
  ASSERT_TRUE(arrives([](const json& t) { return t["number"] == 200 && t["curve"].size() == 1; })) << seen.dump();
  version = seen["version"];
  EXPECT_TRUE(poll_until([&] { return events.load() >= 2; }, std::chrono::seconds(2))) << "no event for the new trial";
  study.tell(*running, -1.0);
  ASSERT_TRUE(arrives([](const json& t) { return t["number"] == 200 && t["state"] == "complete"; })) << seen.dump();
  EXPECT_EQ(seen["best"]["number"], 200);

  std::this_thread::sleep_for(std::chrono::milliseconds(300));  // a few more looks at a quiet study
  EXPECT_EQ(counting->whole_reads.load(), 0) << "the whole study was read again";
  // After the first 200, only trial 200 (new, then again while it ran): never the old ones.
  EXPECT_EQ(counting->old_rows_read.load(), 0);
  EXPECT_GT(counting->rows_read.load(), 200);
  done = true;
  study.tell(*study.ask(), 3.0);  // one more event, so the stream's reader returns
  dashboard.stop();
  stream.join();
}

// A study is read again only while a page asks about it: the studies list reads each
// study on request, and a study no page has asked about for `follow_for` is left alone.
TEST(Dashboard, FollowsAStudyOnlyWhileAPageAsks) {
  caviar::testing::TempDir tmp;
  const std::string url = "sqlite:///" + (tmp.path() / "s.db").string();
  auto writer = open_storage(url);
  Study study(writer, small_study());
  for (int i = 0; i < 20; ++i) study.tell(*study.ask(), i);
  auto counting = std::make_shared<CountingStore>(open_storage(url, OpenMode::ReadOnly));
  DashboardOptions options;
  options.port = 0;
  options.poll = std::chrono::milliseconds(20);
  options.follow_for = std::chrono::milliseconds(300);
  Dashboard dashboard(counting, options);
  dashboard.start();
  httplib::Client c("127.0.0.1", dashboard.port());
  const std::string base = "/api/study/" + std::to_string(study.record().id);
  auto complete = [&](const json& j) { return j["counts"]["complete"].get<int>(); };

  EXPECT_EQ(complete(get_json(c, "/api/studies")["studies"][0]), 20);
  const int listed = counting->looks;
  study.tell(*study.ask(), 20.0);
  std::this_thread::sleep_for(std::chrono::milliseconds(200));  // ten polls
  EXPECT_EQ(counting->looks.load(), listed) << "the studies list made the server follow the study";
  EXPECT_EQ(complete(get_json(c, "/api/studies")["studies"][0]), 21) << "the list is read on request";

  get_json(c, base);  // a study page: followed, so a new trial arrives without a request
  study.tell(*study.ask(), 21.0);
  EXPECT_TRUE(poll_until([&] { return complete(get_json(c, base + "/changes?since=0")) == 22; }, std::chrono::seconds(2)));

  std::this_thread::sleep_for(std::chrono::milliseconds(600));  // no page asks: no more looks
  const int quiet = counting->looks;
  study.tell(*study.ask(), 22.0);
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  EXPECT_EQ(counting->looks.load(), quiet) << "a study no page asks about is still read";
  EXPECT_EQ(complete(get_json(c, base + "/changes?since=0")), 23) << "asked again, the answer is current";
}

// Off loopback, every request needs the token; the URL carries it once, then a cookie.
TEST(Dashboard, OffLoopbackEveryRequestNeedsTheToken) {
  DashboardOptions options;
  options.host = "0.0.0.0";
  options.port = 0;
  Dashboard dashboard(make_memory_storage(), options);
  dashboard.start();
  const std::string token = dashboard.token();
  ASSERT_EQ(token.size(), 32u);
  EXPECT_NE(dashboard.url().find("?token=" + token), std::string::npos);
  httplib::Client c("127.0.0.1", dashboard.port());
  EXPECT_EQ(status_of(c, "/"), 403);
  EXPECT_EQ(status_of(c, "/api/studies"), 403);
  EXPECT_EQ(status_of(c, "/assets/dashboard.js"), 403);
  EXPECT_EQ(status_of(c, "/?token=" + std::string(32, '0')), 403);
  EXPECT_EQ(status_of(c, "/api/studies", {{"Cookie", "caviar_token=wrong"}}), 403);
  auto res = c.Get(("/?token=" + token).c_str());
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 200);
  EXPECT_NE(res->get_header_value("Set-Cookie").find("caviar_token=" + token), std::string::npos);
  EXPECT_NE(res->get_header_value("Set-Cookie").find("HttpOnly"), std::string::npos);
  EXPECT_EQ(status_of(c, "/api/studies", {{"Cookie", "a=b; caviar_token=" + token}}), 200);
  EXPECT_EQ(status_of(c, "/api/studies", {{"Authorization", "Bearer " + token}}), 200);
}

namespace {

// Sends `bytes` on a new connection and reads what comes back (at most 1 s).
void send_raw(int port, const std::string& bytes) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  ASSERT_GE(fd, 0);
  timeval tv{1, 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<std::uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0) {
    (void)!write(fd, bytes.data(), bytes.size());
    shutdown(fd, SHUT_WR);
    char buffer[4096];
    while (read(fd, buffer, sizeof buffer) > 0) {
    }
  }
  close(fd);
}

}  // namespace

// A short bounded fuzz of the routes: random methods, paths, queries, headers and bytes.
// The server answers each or drops the connection, and afterwards still answers.
TEST(Dashboard, MalformedRequestsNeverTakeItDown) {
  caviar::testing::TempDir tmp;
  auto store = make_memory_storage();
  Study study(store, small_study());
  fill(study, tmp.path() / "trial-0");
  DashboardOptions options;
  options.port = 0;
  Dashboard dashboard(store, options);
  dashboard.start();
  std::mt19937_64 random(7);
  auto pick = [&](std::initializer_list<const char*> from) {
    return std::string(*(from.begin() + random() % from.size()));
  };
  auto noise = [&](std::size_t n) {
    std::string s;
    for (std::size_t i = 0; i < n; ++i) s += static_cast<char>(random() % 256);
    return s;
  };
  const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(8);
  int sent = 0;
  while (std::chrono::steady_clock::now() < until && sent < 600) {
    std::string path = pick({"/", "/study/1", "/study/1/trial/0", "/api/studies", "/api/study/1",
                             "/api/study/1/changes", "/api/study/1/trials", "/api/study/1/trial/",
                             "/api/study/", "/study/", "/assets/", "/api/events"});
    switch (random() % 6) {
      case 0: path += noise(random() % 40); break;
      case 1: path += "?" + pick({"since", "state", "sort", "limit", "offset", "param", "min", "choice"}) + "=" +
                      pick({"-1", "1e400", "nan", "%zz", "%00", "complete,,", "99999999999999999999", "lr", ""});
              break;
      case 2: path += std::to_string(static_cast<long long>(random())); break;
      case 3: path += std::string(random() % 20000, 'a'); break;
      default: break;
    }
    std::string request;
    switch (random() % 4) {
      case 0: request = noise(random() % 3000); break;
      case 1: request = pick({"GET", "POST", "DELETE", "BREW", ""}) + " " + path + " HTTP/1.1\r\nHost: x\r\n" +
                        pick({"", "Content-Length: -5\r\n", "Content-Length: 99999999999\r\n",
                              "Transfer-Encoding: chunked\r\n", "Range: bytes=5-1\r\n",
                              "Cookie: caviar_token=\xff\xfe\r\n"}) + "\r\n" + noise(random() % 100);
              break;
      case 2: request = "GET " + path + " HTTP/1.1\r\n" + std::string(random() % 20000, 'h') + ": v\r\n\r\n"; break;
      default: request = "GET " + path + " HTTP/1.0\r\n\r\n"; break;
    }
    send_raw(dashboard.port(), request);
    ++sent;
  }
  EXPECT_GE(sent, 100);
  httplib::Client c("127.0.0.1", dashboard.port());
  EXPECT_EQ(status_of(c, "/api/studies"), 200) << "after " << sent << " malformed requests";
  EXPECT_EQ(status_of(c, "/study/1"), 200);
}

// `caviar dashboard` itself: its errors, and serving until Ctrl-C.
TEST(DashboardCli, ServesUntilStoppedAndRefusesWhatItCannotServe) {
  caviar::testing::TempDir tmp;
  using caviar::testing::run_caviar;
  auto missing = run_caviar(tmp.path(), {"dashboard", "--storage", "sqlite:///missing.db"});
  EXPECT_EQ(missing.rc, 2);
  EXPECT_TRUE(caviar::testing::one_error_line(missing, "missing.db"));
  EXPECT_FALSE(fs::exists(tmp.path() / "missing.db")) << "the dashboard created a database";
  {
    auto writer = open_storage("sqlite:///" + (tmp.path() / "s.db").string());
    Study study(writer, small_study());
    fill(study, tmp.path() / "trial-0");
  }
  auto no_study = run_caviar(tmp.path(), {"dashboard", "--storage", "sqlite:///s.db", "--study", "other"});
  EXPECT_EQ(no_study.rc, 2);
  EXPECT_TRUE(caviar::testing::one_error_line(no_study, "other"));

  caviar::testing::CaviarProcess server(tmp.path(), {"dashboard", "--storage", "sqlite:///s.db", "--port", "0",
                                                     "--study", "watched"});
  std::string url;
  ASSERT_TRUE(poll_until([&] {
    const std::string out = server.out_so_far();
    const auto at = out.find("http://127.0.0.1:");
    if (at == std::string::npos) return false;
    url = out.substr(at, out.find(' ', at) - at);
    return true;
  }, std::chrono::seconds(10))) << server.err_so_far();
  EXPECT_NE(url.find("/study/1"), std::string::npos) << url;
  const int port = std::stoi(url.substr(17));
  httplib::Client c("127.0.0.1", port);
  EXPECT_EQ(status_of(c, "/study/1"), 200);

  // The same port again is in use.
  auto taken = run_caviar(tmp.path(), {"dashboard", "--storage", "sqlite:///s.db", "--port", std::to_string(port)});
  EXPECT_EQ(taken.rc, 2);
  EXPECT_TRUE(caviar::testing::one_error_line(taken, std::to_string(port)));

  server.signal(SIGINT);
  auto done = server.wait(std::chrono::seconds(10));
  EXPECT_EQ(done.rc, 0) << done.describe();
}

// `caviar tune --dashboard` serves its study while it runs and prints the URL.
TEST(DashboardCli, TuneServesItsStudyWhileItRuns) {
  caviar::testing::TempDir tmp;
  caviar::testing::write_file(tmp.path() / "study.yaml", R"(study: live
storage: sqlite:///study.db
metric: loss
objective:
  command: [sh, -c, 'sleep 0.5; echo "loss=$CAVIAR_PARAM_X"']
parameters:
  x: {type: float, low: 0, high: 1}
sampler: {name: random, seed: 1}
budget: {trials: 12, parallel: 2}
)");
  caviar::testing::CaviarProcess tune(tmp.path(), {"tune", "study.yaml", "--dashboard", "--dashboard-port", "0"});
  std::string url;
  ASSERT_TRUE(poll_until([&] {
    const std::string err = tune.err_so_far();
    const auto at = err.find("http://127.0.0.1:");
    if (at == std::string::npos) return false;
    url = err.substr(at, err.find_first_of(" \n", at) - at);
    return true;
  }, std::chrono::seconds(10))) << tune.err_so_far();
  EXPECT_NE(tune.err_so_far().find("dashboard of study 'live'"), std::string::npos);
  const int port = std::stoi(url.substr(17));
  httplib::Client c("127.0.0.1", port);
  json seen;
  EXPECT_TRUE(poll_until([&] {
    auto res = c.Get("/api/studies");
    if (!res || res->status != 200) return false;
    seen = json::parse(res->body);
    return seen["studies"].size() == 1 && seen["studies"][0]["counts"]["complete"].get<int>() >= 1;
  }, std::chrono::seconds(10))) << seen.dump();
  auto done = tune.wait(std::chrono::seconds(60));
  EXPECT_EQ(done.rc, 0) << done.describe();
}
