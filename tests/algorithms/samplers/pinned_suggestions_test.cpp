// Pins every sampler's suggestions: the same seed and the same history give bit-identical
// points, before and after a change that is meant to move code without changing it.
//
// Each sampler runs a small synthetic study (mixed scales, an int and a choice; a
// conditional parameter for the samplers that take one): trial i is suggested with trial
// i-1 still running, then trial i-1 finishes with a value and three reports (every fifth
// trial pruned after its first report). The suggestions, as raw bits, are hashed (FNV-1a)
// and compared with the hash recorded when the test was written. A failure prints the
// first suggestions, so that a deliberate change of a sampler can record its new hash.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>

#include <fmt/core.h>

#include "caviar/sampler.h"

using namespace caviar;

namespace {

constexpr int kTrials = 30;

std::uint64_t fnv1a(std::uint64_t hash, double x) {
  unsigned char bytes[sizeof x];
  std::memcpy(bytes, &x, sizeof x);
  for (unsigned char b : bytes) hash = (hash ^ b) * 1099511628211ull;
  return hash;
}

double objective(const SearchSpace& space, const Params& params) {
  double f = 0;
  for (const auto& p : space.params()) {
    auto it = params.find(p.name);
    if (it == params.end()) continue;
    double u = p.to_unit(it->second) - 0.3;
    f += u * u;
  }
  return f;
}

struct Suggestions {
  std::uint64_t hash = 14695981039346656037ull;
  std::string shown;
};

Suggestions run(const std::string& name, const json& settings, const SearchSpace& space) {
  SamplerOptions options;
  options.name = name;
  options.seed = 12345;
  options.settings = settings;
  auto sampler = make_sampler(options);
  std::vector<TrialRecord> history;
  const Params fixed;
  const auto t0 = Clock::time_point(std::chrono::seconds(1'800'000'000));
  Suggestions out;
  for (int i = 0; i < kTrials; ++i) {
    SampleContext context{space, history, i, Direction::Minimize, fixed};
    auto params = sampler->suggest(context);
    if (!params) break;
    for (const auto& [key, value] : *params) {
      out.hash = fnv1a(out.hash, value);
      if (i < 3) out.shown += fmt::format("{}:{}={:.17g} ", i, key, value);
    }
    if (!history.empty()) {  // the previous trial finishes now
      TrialRecord& last = history.back();
      double f = objective(space, last.params);
      last.intermediate = {{1, f + 0.3}, {2, f + 0.1}, {3, f}};
      last.finished = *last.started + std::chrono::seconds(2 + last.number % 3);
      if (last.number % 5 == 4) {
        last.state = TrialState::Pruned;
        last.intermediate = {{1, f + 0.3}};
        last.value = f + 0.3;
      } else {
        last.state = TrialState::Complete;
        last.value = f;
      }
    }
    TrialRecord record;
    record.id = i + 1;
    record.number = i;
    record.state = TrialState::Running;
    record.params = std::move(*params);
    record.started = t0 + std::chrono::seconds(10 * i);
    history.push_back(std::move(record));
  }
  return out;
}

const SearchSpace& plain_space() {
  static const SearchSpace space = SearchSpace::from_config_json(json::parse(R"({
    "lr": {"type": "float", "low": 1e-5, "high": 1, "scale": "log"},
    "momentum": {"type": "float", "low": 0.8, "high": 0.999, "scale": "reverse_log"},
    "x": {"type": "float", "low": -2, "high": 3},
    "units": {"type": "int", "low": 16, "high": 512, "scale": "log"},
    "act": {"type": "choice", "values": ["relu", "tanh", "gelu"]}})"));
  return space;
}

const SearchSpace& conditional_space() {
  static const SearchSpace space = SearchSpace::from_config_json(json::parse(R"({
    "lr": {"type": "float", "low": 1e-5, "high": 1, "scale": "log"},
    "optimizer": {"type": "choice", "values": ["sgd", "adam"]},
    "beta1": {"type": "float", "low": 0.8, "high": 0.99, "scale": "reverse_log",
              "when": "optimizer == adam"},
    "layers": {"type": "int", "low": 1, "high": 4}})"));
  return space;
}

struct Pin {
  const char* sampler;
  const char* settings;
  bool conditional;
  std::uint64_t hash;
};

// Recorded at commit 0c93973 (before the layout of issue 28).
const Pin kPins[] = {
    {"random", "{}", true, 0x3fb08602abb5fb1aull},
    {"sobol", "{}", true, 0x0a7df98d06c3a782ull},
    {"grid", R"({"points": 3})", true, 0x179bf01b66ef21d2ull},
    {"zoom", R"({"round": 8})", false, 0xea0a68c83e78337bull},
    {"tpe", "{}", true, 0x0e278e5ee0c745f9ull},
    {"gp", "{}", false, 0xe701a744a8bcb829ull},
    {"cmaes", "{}", false, 0x88a2c7afa1a3f3e2ull},
    {"auto", "{}", false, 0xe701a744a8bcb829ull},
    {"auto", "{}", true, 0x0e278e5ee0c745f9ull},
};

}  // namespace

TEST(PinnedSuggestions, EverySamplerGivesTheRecordedPoints) {
  for (const Pin& pin : kPins) {
    const SearchSpace& space = pin.conditional ? conditional_space() : plain_space();
    Suggestions r = run(pin.sampler, json::parse(pin.settings), space);
    EXPECT_EQ(r.hash, pin.hash) << pin.sampler << (pin.conditional ? " (conditional)" : "")
                                << ": 0x" << fmt::format("{:016x}", r.hash) << "ull; first points: "
                                << r.shown;
  }
}
