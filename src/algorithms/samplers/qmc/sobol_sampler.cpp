// Quasi-random search: scrambled Sobol points in the scale-transformed cube. They cover the
// cube more evenly than independent random points (lower discrepancy) while keeping
// random search's projection property. Trial n takes point n of the seed's sequence.
#include <mutex>

#include <fmt/core.h>

#include "caviar/error.h"
#include "caviar/sampler.h"
#include "algorithms/samplers/qmc/sobol_sequence.h"

namespace caviar {
namespace {

class SobolSampler final : public Sampler {
 public:
  explicit SobolSampler(std::uint64_t seed) : seed_(seed) {}
  std::string name() const override { return "sobol"; }
  bool needs_history() const override { return false; }

  std::optional<Params> suggest(const SampleContext& c) override {
    const detail::SobolSequence& sequence = sequence_for(c.space.size());
    return c.space.from_unit(sequence.point(static_cast<std::uint64_t>(c.trial_number)), c.fixed);
  }

 private:
  const detail::SobolSequence& sequence_for(std::size_t dims) {
    std::lock_guard lock(mutex_);
    if (dims > detail::SobolSequence::max_dims())
      throw ConfigError("sampler", fmt::format("sobol supports up to {} parameters, the space has {}",
                                               detail::SobolSequence::max_dims(), dims));
    if (!sequence_ || sequence_->dims() != dims)
      sequence_ = std::make_unique<detail::SobolSequence>(std::max<std::size_t>(dims, 1), seed_);
    return *sequence_;
  }

  std::uint64_t seed_;
  std::mutex mutex_;
  std::unique_ptr<detail::SobolSequence> sequence_;
};

}  // namespace

std::unique_ptr<Sampler> make_sobol_sampler(std::uint64_t seed) {
  return std::make_unique<SobolSampler>(seed);
}

}  // namespace caviar
