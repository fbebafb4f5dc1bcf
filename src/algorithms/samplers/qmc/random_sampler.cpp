// Random search: independent uniform points in the scale-transformed cube.
// Bergstra & Bengio (2012), "Random Search for Hyper-Parameter Optimization": with a few
// important dimensions, random points test many more distinct values of each than a grid.
#include "caviar/sampler.h"
#include "base/random.h"

namespace caviar {
namespace {

class RandomSampler final : public Sampler {
 public:
  explicit RandomSampler(std::uint64_t seed) : seed_(seed) {}
  std::string name() const override { return "random"; }
  bool needs_history() const override { return false; }

  std::optional<Params> suggest(const SampleContext& c) override {
    detail::Rng rng(seed_, static_cast<std::uint64_t>(c.trial_number));
    std::vector<double> u(c.space.size());
    for (auto& x : u) x = rng.uniform();
    return c.space.from_unit(u, c.fixed);
  }

 private:
  std::uint64_t seed_;
};

}  // namespace

std::unique_ptr<Sampler> make_random_sampler(std::uint64_t seed) {
  return std::make_unique<RandomSampler>(seed);
}

}  // namespace caviar
