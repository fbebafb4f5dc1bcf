// The study report's data (caviar/report.h): the series and axes it plots, the zoom boxes
// it draws, and an HTML page that needs nothing from the network. The page drawn in a
// real browser is tested by tests/report_in_browser.sh (Report.RendersInHeadlessChromium).
#include <gtest/gtest.h>

#include <cmath>
#include <string>
#include <vector>

#include "caviar/error.h"
#include "caviar/report.h"

namespace caviar {
namespace {

Parameter float_param(const std::string& name, double low, double high, Scale scale = Scale::Linear) {
  Parameter p;
  p.name = name;
  p.type = ParamType::Float;
  p.low = low, p.high = high, p.scale = scale;
  return p;
}

Parameter choice_param(const std::string& name, std::vector<json> values) {
  Parameter p;
  p.name = name;
  p.type = ParamType::Choice;
  p.choices = std::move(values);
  return p;
}

TrialRecord trial(int number, TrialState state, std::optional<double> value, Params params = {}) {
  TrialRecord t;
  t.id = number + 1;
  t.number = number;
  t.state = state;
  t.value = value;
  t.params = std::move(params);
  return t;
}

StudyRecord study(Direction direction, const std::string& name = "s") {
  StudyRecord s;
  s.id = 1;
  s.name = name;
  s.direction = direction;
  return s;
}

std::size_t count(const std::string& text, const std::string& what) {
  std::size_t n = 0;
  for (auto at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
  return n;
}

const json& axis_of(const json& data, const std::string& name) {
  for (const auto& p : data["params"])
    if (p["name"] == name) return p;
  throw std::runtime_error("no axis " + name);
}

TEST(Report, BestSoFarFollowsTheDirectionAndSkipsUnfinishedTrials) {
  SearchSpace space({float_param("x", 0, 1)});
  // Values by trial number: 5, (pruned), 3, (failed), 4, 1, 2 — given out of order.
  std::vector<TrialRecord> trials = {
      trial(5, TrialState::Complete, 1.0), trial(0, TrialState::Complete, 5.0),
      trial(1, TrialState::Pruned, 0.5),   trial(2, TrialState::Complete, 3.0),
      trial(3, TrialState::Failed, std::nullopt), trial(4, TrialState::Complete, 4.0),
      trial(6, TrialState::Complete, 2.0)};
  json lo = report_data(study(Direction::Minimize), space, trials);
  EXPECT_EQ(lo["history"]["number"], json({0, 2, 4, 5, 6}));
  EXPECT_EQ(lo["history"]["value"], json({5.0, 3.0, 4.0, 1.0, 2.0}));
  EXPECT_EQ(lo["history"]["best"], json({5.0, 3.0, 3.0, 1.0, 1.0}));
  EXPECT_EQ(lo["best"]["number"], 5);
  EXPECT_EQ(lo["counts"]["complete"], 5);
  EXPECT_EQ(lo["counts"]["pruned"], 1);
  EXPECT_EQ(lo["counts"]["failed"], 1);

  json hi = report_data(study(Direction::Maximize), space, trials);
  EXPECT_EQ(hi["history"]["best"], json({5.0, 5.0, 5.0, 5.0, 5.0}));
  EXPECT_EQ(hi["best"]["number"], 0);

  // A maximised study whose best changes: 2, 3, 1, 5, 4 -> 2, 3, 3, 5, 5.
  std::vector<TrialRecord> rising;
  double values[] = {2, 3, 1, 5, 4};
  for (int i = 0; i < 5; ++i) rising.push_back(trial(i, TrialState::Complete, values[i]));
  json up = report_data(study(Direction::Maximize), space, rising);
  EXPECT_EQ(up["history"]["best"], json({2.0, 3.0, 3.0, 5.0, 5.0}));
  EXPECT_EQ(up["best"]["number"], 3);
  EXPECT_EQ(up["direction"], "maximize");
}

TEST(Report, ReverseLogIsPlottedAsOneMinusOnALogAxis) {
  SearchSpace space({float_param("momentum", 0.9, 0.999, Scale::ReverseLog)});
  json data = report_data(study(Direction::Minimize), space,
                          {trial(0, TrialState::Complete, 1.0, {{"momentum", 0.99}})});
  const json& axis = axis_of(data, "momentum");
  EXPECT_EQ(axis["axis"], "log");
  EXPECT_EQ(axis["transform"], "one_minus");
  EXPECT_EQ(axis["label"], "1 − momentum");
  // 1 − 0.999 = 1e-3 and 1 − 0.9 = 0.1: the axis spans decades −3 to −1.
  EXPECT_NEAR(axis["range"][0].get<double>(), -3, 1e-9);
  EXPECT_NEAR(axis["range"][1].get<double>(), -1, 1e-9);
  EXPECT_EQ(axis["ticks"]["text"], json({"0.001", "0.01", "0.1"}));
  EXPECT_NEAR(axis["ticks"]["vals"][1].get<double>(), -2, 1e-9);
  EXPECT_NEAR(data["trials"][0]["x"]["momentum"].get<double>(), 0.01, 1e-12);
  EXPECT_EQ(data["trials"][0]["text"]["momentum"], "0.99");  // the hover shows the real value
}

TEST(Report, EachScaleGetsItsOwnAxis) {
  Parameter units = float_param("units", 32, 512, Scale::Log);
  units.type = ParamType::Int;
  Parameter layers = float_param("layers", 1, 3);
  layers.type = ParamType::Int;
  SearchSpace space({float_param("lr", 1e-4, 1, Scale::Log), float_param("dropout", 0.1, 0.9, Scale::Logit),
                     choice_param("batch", {32, 64, 128}), choice_param("opt", {"sgd", "adam"}), units, layers});
  json data = report_data(study(Direction::Minimize), space,
                          {trial(0, TrialState::Complete, 1.0,
                                 {{"lr", 0.01}, {"dropout", 0.5}, {"batch", 2}, {"opt", 1}, {"units", 64}, {"layers", 2}})});
  const json& lr = axis_of(data, "lr");
  EXPECT_EQ(lr["axis"], "log");
  EXPECT_NEAR(lr["range"][0].get<double>(), -4, 1e-9);
  EXPECT_NEAR(lr["range"][1].get<double>(), 0, 1e-9);
  EXPECT_EQ(lr["ticks"]["text"], json({"0.0001", "0.001", "0.01", "0.1", "1"}));
  EXPECT_EQ(axis_of(data, "units")["axis"], "log");  // an int on a log scale: a log axis
  // Powers of ten alone would give one tick (100) in [32, 512]: 1-2-5 steps instead.
  EXPECT_EQ(axis_of(data, "units")["ticks"]["text"], json({"50", "100", "200", "500"}));
  EXPECT_EQ(axis_of(data, "layers")["axis"], "linear");
  EXPECT_EQ(axis_of(data, "layers")["range"], json({1.0, 3.0}));
  const json& dropout = axis_of(data, "dropout");
  EXPECT_EQ(dropout["axis"], "linear");
  EXPECT_EQ(dropout["transform"], "logit");
  EXPECT_NEAR(dropout["range"][1].get<double>(), std::log(9.0), 1e-12);  // logit(0.9)
  EXPECT_EQ(dropout["ticks"]["text"], json({"0.1", "0.25", "0.5", "0.75", "0.9"}));
  const json& batch = axis_of(data, "batch");
  EXPECT_EQ(batch["axis"], "category");
  EXPECT_EQ(batch["ticks"]["text"], json({"32", "64", "128"}));
  EXPECT_EQ(batch["range"], json({-0.5, 2.5}));
  EXPECT_EQ(axis_of(data, "opt")["ticks"]["text"], json({"sgd", "adam"}));
  const json& x = data["trials"][0]["x"];
  EXPECT_DOUBLE_EQ(x["lr"].get<double>(), 0.01);   // Plotly takes the log itself
  EXPECT_NEAR(x["dropout"].get<double>(), 0.0, 1e-12);  // logit(0.5)
  EXPECT_EQ(x["batch"], 2.0);
  EXPECT_EQ(data["trials"][0]["text"]["batch"], "128");
}

TEST(Report, ZoomBoxesAreConvertedToPlottedUnits) {
  SearchSpace space({float_param("lr", 1e-4, 1, Scale::Log), float_param("beta", 0.9, 0.999, Scale::ReverseLog),
                     choice_param("opt", {"sgd", "adam", "rmsprop"})});
  StudyRecord s = study(Direction::Minimize);
  s.system_attrs["caviar:zoom"] = {
      {"rounds",
       {{{"round", 1}, {"first_trial", 0},
         {"box", {{"lr", {{"low", 1e-4}, {"high", 1.0}}}, {"beta", {{"low", 0.9}, {"high", 0.999}}},
                  {"opt", {{"values", {"sgd", "adam", "rmsprop"}}}}}}},
        {{"round", 2}, {"first_trial", 16},
         {"box", {{"lr", {{"low", 1e-3}, {"high", 1e-2}}}, {"beta", {{"low", 0.95}, {"high", 0.99}}},
                  {"opt", {{"values", {"rmsprop", "sgd"}}}}, {"gone", {{"low", 0}, {"high", 1}}}}}}}}};
  json data = report_data(s, space, {trial(0, TrialState::Complete, 1.0, {{"lr", 0.01}})});
  ASSERT_EQ(data["zoom"].size(), 2u);
  const json& r2 = data["zoom"][1];
  EXPECT_EQ(r2["round"], 2);
  EXPECT_EQ(r2["first_trial"], 16);
  EXPECT_EQ(r2["box"]["lr"]["range"], json({1e-3, 1e-2}));
  // β in [0.95, 0.99] is 1 − β in [0.01, 0.05], lowest first.
  EXPECT_NEAR(r2["box"]["beta"]["range"][0].get<double>(), 0.01, 1e-12);
  EXPECT_NEAR(r2["box"]["beta"]["range"][1].get<double>(), 0.05, 1e-12);
  EXPECT_EQ(r2["box"]["opt"]["values"], json({0, 2}));  // indices, ascending
  EXPECT_FALSE(r2["box"].contains("gone"));             // not a parameter of the space

  // No attribute, or an unreadable one: no boxes.
  EXPECT_EQ(report_data(study(Direction::Minimize), space, {})["zoom"], json::array());
  s.system_attrs["caviar:zoom"] = "garbage";
  EXPECT_EQ(report_data(s, space, {})["zoom"], json::array());
}

TEST(Report, PairsAreAmongTheMostImportantParameters) {
  // y alone decides the value; x and z are noise-free irrelevant. Importance puts y first.
  SearchSpace space({float_param("x", 0, 1), float_param("y", 0, 1), float_param("z", 0, 1)});
  std::vector<TrialRecord> trials;
  for (int i = 0; i < 40; ++i) {
    double x = std::fmod(0.37 * i, 1.0), y = std::fmod(0.61 * i + 0.1, 1.0), z = std::fmod(0.83 * i + 0.2, 1.0);
    trials.push_back(trial(i, TrialState::Complete, (y - 0.3) * (y - 0.3), {{"x", x}, {"y", y}, {"z", z}}));
  }
  ReportOptions options;
  options.top = 2;
  json data = report_data(study(Direction::Minimize), space, trials, options);
  ASSERT_FALSE(data["importance"].is_null()) << data["importance_note"];
  EXPECT_EQ(data["importance"]["params"][0]["name"], "y");
  EXPECT_GT(data["importance"]["params"][0]["share"].get<double>(), 0.8);
  ASSERT_EQ(data["top"].size(), 2u);
  EXPECT_EQ(data["top"][0], "y");
  ASSERT_EQ(data["pairs"].size(), 1u);
  EXPECT_EQ(data["pairs"][0][0], "y");

  options.top = 4;  // more than there are: all three, three pairs
  EXPECT_EQ(report_data(study(Direction::Minimize), space, trials, options)["pairs"].size(), 3u);
  options.top = 0;
  try {
    report_data(study(Direction::Minimize), space, trials, options);
    FAIL() << "top = 0 was accepted";
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("top"), std::string::npos) << e.what();
  }
}

TEST(Report, OneParameterHasNoPairsAndSaysWhyThereIsNoImportance) {
  SearchSpace space({float_param("x", -1, 1)});
  json data = report_data(study(Direction::Minimize), space,
                          {trial(0, TrialState::Complete, 1.0, {{"x", 0.5}}), trial(1, TrialState::Complete, 0.5, {{"x", 0.1}})});
  EXPECT_EQ(data["pairs"], json::array());
  EXPECT_EQ(data["top"], json({"x"}));
  EXPECT_TRUE(data["importance"].is_null());
  EXPECT_NE(data["importance_note"].get<std::string>().find("two parameters"), std::string::npos);
}

TEST(Report, ConditionalParametersAreLeftOutOfTrialsThatLackThem) {
  SearchSpace space({choice_param("opt", {"sgd", "momentum"}), float_param("beta", 0.8, 0.99, Scale::ReverseLog)});
  json data = report_data(study(Direction::Minimize), space,
                          {trial(0, TrialState::Complete, 1.0, {{"opt", 0}}),
                           trial(1, TrialState::Complete, 2.0, {{"opt", 1}, {"beta", 0.9}}),
                           trial(2, TrialState::Complete, 3.0, {{"opt", 7}})});  // not a value of the space
  EXPECT_FALSE(data["trials"][0]["x"].contains("beta"));
  EXPECT_TRUE(data["trials"][1]["x"].contains("beta"));
  EXPECT_FALSE(data["trials"][2]["x"].contains("opt"));
}

TEST(Report, LearningCurvesCarryTheIntermediateValues) {
  SearchSpace space({float_param("x", 0, 1)});
  TrialRecord a = trial(0, TrialState::Complete, 0.2, {{"x", 0.5}});
  a.intermediate = {{1, 0.9}, {2, 0.5}, {3, 0.2}};
  TrialRecord b = trial(1, TrialState::Pruned, std::nullopt, {{"x", 0.9}});
  b.intermediate = {{1, 1.5}, {2, std::nan("")}};  // a NaN report is left out
  json data = report_data(study(Direction::Minimize), space, {a, b, trial(2, TrialState::Complete, 0.3)});
  EXPECT_EQ(data["trials"][0]["curve"], json({{1, 0.9}, {2, 0.5}, {3, 0.2}}));
  EXPECT_EQ(data["trials"][1]["curve"], json({{1, 1.5}}));
  EXPECT_EQ(data["trials"][1]["state"], "pruned");
  EXPECT_EQ(data["trials"][2]["curve"], json::array());
}

TEST(Report, HtmlIsSelfContainedAndEscaped) {
  // A study name and a choice that try to break out of the page.
  SearchSpace space({float_param("lr", 1e-4, 1, Scale::Log), choice_param("act", {"</script><b>", "relu"})});
  std::vector<TrialRecord> trials;
  for (int i = 0; i < 6; ++i)
    trials.push_back(trial(i, TrialState::Complete, 1.0 / (i + 1), {{"lr", std::pow(10.0, -i * 0.5)}, {"act", i % 2}}));
  std::string html = html_report(study(Direction::Minimize, "a<b>&\"c\""), space, trials);
  EXPECT_EQ(html.rfind("<!DOCTYPE html>", 0), 0u);
  EXPECT_NE(html.find("a&lt;b&gt;&amp;&quot;c&quot;"), std::string::npos);
  EXPECT_EQ(html.find("a<b>&"), std::string::npos);
  // plotly.js, the data and report.js: three scripts, each closed once.
  EXPECT_EQ(count(html, "<script"), 3u);
  EXPECT_EQ(count(html, "</script>"), 3u);
  EXPECT_NE(html.find("plotly.js v"), std::string::npos);  // plotly.js is in the page
  EXPECT_NE(html.find("caviarReportReady"), std::string::npos);  // and report.js
  // Nothing is loaded from elsewhere.
  for (const char* external : {"src=\"http", "src='http", "src=http", "<link", "@import", "src=\"//"})
    EXPECT_EQ(html.find(external), std::string::npos) << external;
  EXPECT_EQ(html.find("id=\"no-complete\""), std::string::npos);
}

TEST(Report, StudyWithoutCompleteTrialsSaysSo) {
  SearchSpace space({float_param("x", 0, 1), float_param("y", 0, 1)});
  TrialRecord pruned = trial(0, TrialState::Pruned, std::nullopt, {{"x", 0.5}, {"y", 0.5}});
  pruned.intermediate = {{1, 3.0}};
  for (const auto& trials : {std::vector<TrialRecord>{}, std::vector<TrialRecord>{pruned}}) {
    json data = report_data(study(Direction::Minimize), space, trials);
    EXPECT_TRUE(data["best"].is_null());
    EXPECT_EQ(data["history"]["number"], json::array());
    std::string html = html_report(study(Direction::Minimize), space, trials);
    EXPECT_NE(html.find("id=\"no-complete\""), std::string::npos);
    EXPECT_NE(html.find("</html>"), std::string::npos);
  }
  // An empty space too (a bare study that stores none).
  std::string html = html_report(study(Direction::Maximize), SearchSpace{}, {});
  EXPECT_NE(html.find("id=\"no-complete\""), std::string::npos);
}

}  // namespace
}  // namespace caviar
