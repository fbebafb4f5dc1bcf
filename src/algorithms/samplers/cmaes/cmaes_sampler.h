// The cmaes sampler's class, visible to the tests: CMA-ES with IPOP restarts, replayed from
// the study's history (see cmaes_sampler.cpp for the design, docs/samplers.md for users).
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <vector>

#include "caviar/sampler.h"

namespace caviar::detail {

// One generation as laid out over trial numbers: trials first_trial .. first_trial +
// popsize - 1 are sampled from one search distribution.
struct CmaEsGeneration {
  int restart = 0;     // 0 for the first run, then one more per IPOP restart
  int generation = 0;  // within the restart
  int first_trial = 0;
  int popsize = 0;
  bool operator==(const CmaEsGeneration&) const = default;
};

// How points outside the unit cube are brought back (internal; resample is the default).
enum class CmaEsBounds { Resample, Reflect };

class CmaEsSampler final : public Sampler {
 public:
  CmaEsSampler(std::uint64_t seed, CmaEsSamplerOptions options,
               CmaEsBounds bounds = CmaEsBounds::Resample);
  ~CmaEsSampler() override;
  std::string name() const override { return "cmaes"; }
  std::optional<Params> suggest(const SampleContext& context) override;

  // The generations that the history before context.trial_number lays out, the last one
  // being the generation that trial falls in (empty while in the startup trials or when
  // the space has no float or int parameter without a condition).
  std::vector<CmaEsGeneration> layout(const SampleContext& context);

 private:
  struct Replay;
  std::uint64_t seed_;
  CmaEsSamplerOptions options_;
  CmaEsBounds bounds_;
  std::unique_ptr<Sampler> sobol_;
  std::mutex mutex_;
  std::unique_ptr<Replay> replay_;  // the cached replay; guarded by mutex_
};

}  // namespace caviar::detail
