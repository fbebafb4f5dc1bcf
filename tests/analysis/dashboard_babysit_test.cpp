// The one thing a dashboard page writes: a babysat model's controls (docs/babysit.md),
// through real HTTP on a real SQLite store.
#include <gtest/gtest.h>
#include <httplib.h>

#include "caviar/attributes.h"
#include "caviar/babysit.h"
#include "caviar/dashboard.h"
#include "caviar/study.h"
#include "support/files.h"

using namespace caviar;

// A babysat model's controls (docs/babysit.md) are the one thing a page writes: only with
// the key of a page the dashboard served, only values the model can take, only when the
// dashboard was given a writer.
TEST(Dashboard, ABabysatModelsControlsAreTheOneThingWritten) {
  caviar::testing::TempDir tmp;
  const std::string url = "sqlite:///" + (tmp.path() / "s.db").string();
  {
    auto writer = open_storage(url);
    StudyOptions o;
    o.name = "watched";
    o.space = SearchSpace::from_config_json(json::parse(
        R"({"lr": {"type": "float", "low": 1e-4, "high": 1, "scale": "log"},
            "opt": {"type": "choice", "values": ["sgd", "adam"]}})"));
    Study study(writer, o);
    for (int k = 0; k < 2; ++k) {  // two segments of one model: steps 0-1, then 1-2
      auto t = study.ask([&](const std::vector<TrialRecord>&, const Params&, int) -> std::optional<TrialDraft> {
        json lineage = {{"segment", k}, {"step", k}, {"stop", k + 1}, {"branch", 0},
                        {"parent_trial", k ? json(0) : json(nullptr)}, {"restore_trial", k ? json(0) : json(nullptr)},
                        {"changes", json::object()}, {"origin", k ? "continue" : "start"}, {"controls", json::array()}};
        return TrialDraft{{{"lr", 0.1}, {"opt", 1}}, {{attr::kBabysit, lineage}}};
      });
      study.storage().report(t->id(), k + 1, 1.0 - 0.1 * k);
      study.tell(*t, 1.0 - 0.1 * k);
    }
    o.name = "tuned";  // a study without a babysat model: study 2
    Study other(writer, o);
    auto t = other.ask();
    other.tell(*t, 0.5);
  }
  DashboardOptions options;
  options.port = 0;
  options.open_writer = [url] { return open_storage(url, OpenMode::Existing); };
  Dashboard dashboard(open_storage(url, OpenMode::ReadOnly), options);
  dashboard.start();
  httplib::Client c("127.0.0.1", dashboard.port());
  auto shell = c.Get("/study/1");
  ASSERT_TRUE(shell);
  const std::string marker = "data-control=\"";
  const auto at = shell->body.find(marker);
  ASSERT_NE(at, std::string::npos) << shell->body;
  const std::string key = shell->body.substr(at + marker.size(), 32);
  auto answer = c.Get("/api/study/1");
  ASSERT_TRUE(answer);
  const json page = json::parse(answer->body);
  ASSERT_TRUE(page["babysit"].is_object()) << page["babysit"];
  EXPECT_EQ(page["babysit"]["segments"].size(), 2u);

  auto post = [&](const json& body, const httplib::Headers& headers) {
    auto res = c.Post("/api/study/1/babysit", headers, body.dump(), "application/json");
    return res ? res->status : -1;
  };
  const httplib::Headers with_key = {{"X-Caviar-Control", key}};
  EXPECT_EQ(post({{"action", "pause"}}, {}), 403) << "no key: another site's page";
  EXPECT_EQ(post({{"action", "pause"}}, {{"X-Caviar-Control", std::string(32, '0')}}), 403);
  EXPECT_EQ(post({{"action", "pause"}}, with_key), 200);
  EXPECT_EQ(post({{"action", "set"}, {"params", {{"lr", 5}}}}, with_key), 400) << "outside lr's range";
  EXPECT_EQ(post({{"action", "rollback"}, {"to", 7}}, with_key), 400) << "no checkpoint at step 7";
  EXPECT_EQ(post({{"action", "explode"}}, with_key), 400);
  auto none = c.Post("/api/study/2/babysit", with_key, json{{"action", "pause"}}.dump(), "application/json");
  ASSERT_TRUE(none);
  EXPECT_EQ(none->status, 400) << "no babysat model in study 2";
  EXPECT_EQ(post({{"action", "set"}, {"params", {{"lr", 0.01}}}, {"by", "me"}}, with_key), 400);
  EXPECT_EQ(post({{"action", "rollback"}, {"to", 1}, {"params", {{"lr", 0.01}}}}, with_key), 200);
  auto res = c.Post("/api/study/1/babysit", with_key, "{not json", "application/json");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 400);
  dashboard.stop();

  auto store = open_storage(url, OpenMode::Existing);
  const auto controls = babysit_controls(store->find_study("watched")->system_attrs);
  ASSERT_EQ(controls.size(), 2u);
  EXPECT_EQ(controls[0].action, "pause");
  EXPECT_EQ(controls[1].action, "rollback");
  EXPECT_EQ(controls[1].to, 1);
  EXPECT_EQ(controls[1].by, "dashboard");

  DashboardOptions reading = options;
  reading.open_writer = nullptr;  // caviar dashboard --read-only
  Dashboard reader(open_storage(url, OpenMode::ReadOnly), reading);
  reader.start();
  httplib::Client r("127.0.0.1", reader.port());
  auto shell2 = r.Get("/study/1");
  ASSERT_TRUE(shell2);
  const std::string key2 = shell2->body.substr(shell2->body.find(marker) + marker.size(), 32);
  auto refused = r.Post("/api/study/1/babysit", {{"X-Caviar-Control", key2}}, json{{"action", "pause"}}.dump(),
                        "application/json");
  ASSERT_TRUE(refused);
  EXPECT_EQ(refused->status, 403);
}
