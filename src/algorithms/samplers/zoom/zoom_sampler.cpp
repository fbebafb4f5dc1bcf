// Coarse to fine: sample the whole space, then zoom into the box around the best trials
// and sample it more densely, round after round (include/caviar/zoom.h for the box,
// docs/samplers.md#zoom for the settings and measurements).
//
// Round r (0-based) holds trials [r·round, (r+1)·round); from round `rounds - 1` on the
// box stays that round's box. Round r's box comes from the trials numbered below r·round
// that are complete when a trial of round r is asked for, so a sequential study is a pure
// function of (seed, history). With parallel workers a round's first trials may start
// while trials of the previous round still run: they see a box made from the trials
// complete at that moment (each worker recomputes it), and the stored box is the one made
// from the trials complete when the last change was written.
#include <map>
#include <mutex>

#include <fmt/core.h>

#include "caviar/attributes.h"
#include "caviar/error.h"
#include "caviar/sampler.h"
#include "caviar/zoom.h"
#include "base/random.h"
#include "algorithms/samplers/qmc/sobol_sequence.h"
#include "algorithms/samplers/factories.h"

namespace caviar {
namespace {

class ZoomSampler final : public Sampler {
 public:
  ZoomSampler(std::uint64_t seed, const ZoomSettings& s) : seed_(seed), s_(s) {}
  std::string name() const override { return "zoom"; }

  std::optional<Params> suggest(const SampleContext& c) override {
    int r = round_of(c.trial_number);
    int first = r * s_.round;
    ZoomBox box = box_of(c, r);
    std::vector<double> u(std::max<std::size_t>(c.space.size(), 1));
    if (s_.inner_sobol) {
      sequence(c.space.size(), r).point(static_cast<std::uint64_t>(c.trial_number - first), u.data());
    } else {
      detail::Rng rng(seed_, static_cast<std::uint64_t>(c.trial_number));
      for (auto& x : u) x = rng.uniform();
    }
    return c.space.from_unit(box.map(c.space, u), c.fixed);
  }

  // {"caviar:zoom": {"rounds": [{"round": 1, "first_trial": 0, "box": {...}}, ...]}}: the
  // boxes of every round up to the trial's.
  std::map<std::string, json> study_notes(const SampleContext& c) override {
    json rounds = json::array();
    for (int r = 0; r <= round_of(c.trial_number); ++r)
      rounds.push_back({{"round", r + 1},
                        {"first_trial", r * s_.round},
                        {"box", box_of(c, r).to_json(c.space)}});
    return {{attr::kZoom, json{{"rounds", std::move(rounds)}}}};
  }

 private:
  int round_of(int trial_number) const {
    return std::min(std::max(trial_number, 0) / s_.round, s_.rounds - 1);
  }

  ZoomBox box_of(const SampleContext& c, int r) const {
    if (r == 0) return ZoomBox::whole(c.space);
    std::vector<const TrialRecord*> before;
    for (const auto& t : c.history)
      if (t.number < r * s_.round && t.state == TrialState::Complete) before.push_back(&t);
    return zoom_box(c.space, before, c.direction, s_.keep, s_.margin);
  }

  // One scrambled Sobol sequence per round, so that each round's points are a fresh
  // low-discrepancy set of the box.
  const detail::SobolSequence& sequence(std::size_t dims, int r) {
    std::lock_guard lock(mutex_);
    if (dims > detail::SobolSequence::max_dims())
      throw ConfigError("sampler.inner", fmt::format("sobol supports up to {} parameters, the "
                                                     "space has {}; use inner: random",
                                                     detail::SobolSequence::max_dims(), dims));
    dims = std::max<std::size_t>(dims, 1);
    auto& slot = sequences_[{dims, r}];
    if (!slot)
      slot = std::make_unique<detail::SobolSequence>(dims, detail::mix64(seed_, static_cast<std::uint64_t>(r)));
    return *slot;
  }

  std::uint64_t seed_;
  ZoomSettings s_;
  std::mutex mutex_;
  std::map<std::pair<std::size_t, int>, std::unique_ptr<detail::SobolSequence>> sequences_;
};

}  // namespace

std::unique_ptr<Sampler> make_zoom_sampler(std::uint64_t seed, const ZoomSettings& settings) {
  if (settings.round < 1) throw ConfigError("sampler.round", "must be at least 1");
  if (settings.rounds < 1) throw ConfigError("sampler.rounds", "must be at least 1");
  if (!(settings.keep > 0 && settings.keep <= 1))
    throw ConfigError("sampler.keep", fmt::format("must be in (0, 1], got {}", settings.keep));
  if (!(settings.margin >= 0 && settings.margin <= 10))
    throw ConfigError("sampler.margin", fmt::format("must be in [0, 10], got {}", settings.margin));
  return std::make_unique<ZoomSampler>(seed, settings);
}

namespace detail {

std::unique_ptr<Sampler> zoom_sampler_from(std::uint64_t seed, Settings& settings) {
  ZoomSettings z;
  z.round = settings.integer("round", z.round, 1, 1'000'000);
  z.keep = settings.number("keep", z.keep, 0, 1);
  if (z.keep == 0) throw ConfigError("sampler.keep", "must be in (0, 1], got 0");
  z.rounds = settings.integer("rounds", z.rounds, 1, 1000);
  z.margin = settings.number("margin", z.margin, 0, 10);
  z.inner_sobol = settings.word("inner", "sobol", {"sobol", "random"}) == "sobol";
  return make_zoom_sampler(seed, z);
}

}  // namespace detail
}  // namespace caviar
