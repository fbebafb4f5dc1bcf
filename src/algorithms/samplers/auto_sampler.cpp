// The default sampler: picks a model for the space and the history so users need not.
//
// The rule (docs/samplers.md#auto, measured with bench/bench_quality):
//   - a space with conditional parameters, or more than kMaxGpDimensions parameters: tpe
//     (its groups model conditional spaces; a GP's cost and data needs grow with dimension);
//   - otherwise gp while fewer than kMaxGpTrials trials have finished (the GP's own Sobol
//     start covers the first trials), then tpe, whose cost stays under a millisecond.
// Each delegate is a function of the history, so switching mid-study is seamless, and
// every worker makes the same choice.
#include <algorithm>

#include "caviar/sampler.h"

namespace caviar {
namespace {

constexpr std::size_t kMaxGpDimensions = 20;
constexpr int kMaxGpTrials = 1000;

class AutoSampler final : public Sampler {
 public:
  explicit AutoSampler(std::uint64_t seed)
      : gp_(make_gp_sampler(seed)), tpe_(make_tpe_sampler(seed)) {}
  std::string name() const override { return "auto"; }

  std::optional<Params> suggest(const SampleContext& c) override {
    return choose(c).suggest(c);
  }

 private:
  Sampler& choose(const SampleContext& c) const {
    bool conditional = std::any_of(c.space.params().begin(), c.space.params().end(),
                                   [](const Parameter& p) { return p.when.has_value(); });
    if (conditional || c.space.size() > kMaxGpDimensions) return *tpe_;
    auto finished = std::count_if(c.history.begin(), c.history.end(),
                                  [](const TrialRecord& t) { return is_finished(t.state); });
    return finished < kMaxGpTrials ? *gp_ : *tpe_;
  }

  std::unique_ptr<Sampler> gp_, tpe_;
};

}  // namespace

std::unique_ptr<Sampler> make_auto_sampler(std::uint64_t seed) {
  return std::make_unique<AutoSampler>(seed);
}

}  // namespace caviar
