// Warm start from an earlier study: old observations shown to the inner sampler with a
// learned weight (include/caviar/sampler.h, docs/retune.md#warm-start).
#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <mutex>
#include <numeric>

#include "base/random.h"
#include "caviar/attributes.h"
#include "caviar/sampler.h"

namespace caviar {
namespace {

// A trial's point in the unit cube: each parameter on its scale; absent or inactive: 0.5.
std::vector<double> cube_point(const SearchSpace& space, const Params& params) {
  std::vector<double> u;
  u.reserve(space.size());
  for (const Parameter& p : space.params()) {
    auto it = params.find(p.name);
    u.push_back(it != params.end() && std::isfinite(it->second) ? p.to_unit(it->second) : 0.5);
  }
  return u;
}

double squared_distance(const std::vector<double>& a, const std::vector<double>& b) {
  double s = 0;
  for (std::size_t i = 0; i < a.size(); ++i) s += (a[i] - b[i]) * (a[i] - b[i]);
  return s;
}

// Average ranks (ties share theirs), 0-based.
std::vector<double> ranks(const std::vector<double>& v) {
  std::vector<std::size_t> order(v.size());
  std::iota(order.begin(), order.end(), std::size_t{0});
  std::sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) { return v[a] < v[b]; });
  std::vector<double> r(v.size());
  for (std::size_t i = 0; i < order.size();) {
    std::size_t j = i;
    while (j + 1 < order.size() && v[order[j + 1]] == v[order[i]]) ++j;
    for (std::size_t k = i; k <= j; ++k) r[order[k]] = (static_cast<double>(i) + static_cast<double>(j)) / 2;
    i = j + 1;
  }
  return r;
}

// Spearman's rho: Pearson's correlation of the ranks; 0 when either side is constant.
double spearman(const std::vector<double>& a, const std::vector<double>& b) {
  const std::vector<double> ra = ranks(a), rb = ranks(b);
  const double n = static_cast<double>(a.size());
  const double ma = std::accumulate(ra.begin(), ra.end(), 0.0) / n;
  const double mb = std::accumulate(rb.begin(), rb.end(), 0.0) / n;
  double sab = 0, saa = 0, sbb = 0;
  for (std::size_t i = 0; i < ra.size(); ++i) {
    sab += (ra[i] - ma) * (rb[i] - mb);
    saa += (ra[i] - ma) * (ra[i] - ma);
    sbb += (rb[i] - mb) * (rb[i] - mb);
  }
  return saa > 0 && sbb > 0 ? sab / std::sqrt(saa * sbb) : 0.0;
}

double median(std::vector<double> v) {
  if (v.empty()) return 0;
  const std::size_t h = v.size() / 2;
  std::nth_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(h), v.end());
  double m = v[h];
  if (v.size() % 2 == 0) m = (m + *std::max_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(h))) / 2;
  return m;
}

// `count` indices of `n` items sorted by value, evenly spaced by rank, the best first.
std::vector<std::size_t> evenly_spaced(std::size_t n, std::size_t count) {
  std::vector<std::size_t> out;
  for (std::size_t i = 0; i < count && i < n; ++i) out.push_back(i * n / count);
  return out;
}

// Each suggestion trusts the old study with probability `weight`: then the inner sampler
// sees the old trials beside the new, else only the new (a cold suggestion). The draw is a
// function of the seed and the trial number, so every worker makes the same one.
class WarmStartSampler final : public Sampler {
 public:
  WarmStartSampler(std::unique_ptr<Sampler> inner, std::shared_ptr<const std::vector<TrialRecord>> prior,
                   std::uint64_t seed, const WarmStartOptions& options)
      : inner_(std::move(inner)), prior_(std::move(prior)), seed_(seed), options_(options) {}
  std::string name() const override { return inner_->name(); }

  std::optional<Params> suggest(const SampleContext& c) override {
    WarmStartState state = warm_start_state(c, *prior_, options_);
    const bool warm = is_warm(c, state);
    remember(c.trial_number, note(state, warm));
    if (!warm) return inner_->suggest(c);
    std::vector<TrialRecord> history;
    history.reserve(c.history.size() + state.shown.size());
    history.insert(history.end(), c.history.begin(), c.history.end());
    history.insert(history.end(), std::make_move_iterator(state.shown.begin()),
                   std::make_move_iterator(state.shown.end()));
    const SampleContext warm_context{c.space, history, c.trial_number, c.direction, c.fixed};
    return inner_->suggest(warm_context);
  }

  // The note of the suggest() call just made for this trial (worked out again only if
  // there was none).
  std::map<std::string, json> study_notes(const SampleContext& c) override {
    auto notes = inner_->study_notes(c);
    std::optional<json> made;
    {
      std::lock_guard lock(mutex_);
      if (auto it = notes_.find(c.trial_number); it != notes_.end()) {
        made = std::move(it->second);
        notes_.erase(it);
      }
    }
    if (!made) {
      const WarmStartState s = warm_start_state(c, *prior_, options_);
      made = note(s, is_warm(c, s));
    }
    notes[attr::kWarmStart] = std::move(*made);
    return notes;
  }

 private:
  bool is_warm(const SampleContext& c, const WarmStartState& s) const {
    if (s.shown.empty()) return false;
    detail::Rng rng(detail::mix64(seed_, 0x7761726dULL), static_cast<std::uint64_t>(c.trial_number));
    return rng.uniform() < s.weight;
  }

  static json note(const WarmStartState& s, bool warm) {
    return {{"weight", s.weight}, {"rho", s.rho}, {"trials", s.trials}, {"prior", s.prior},
            {"old", s.old},       {"offset", s.offset}, {"warm", warm}};
  }

  // Notes of suggestions whose study_notes() has not come yet (a few, with several workers).
  void remember(int number, json value) {
    std::lock_guard lock(mutex_);
    notes_[number] = std::move(value);
    while (notes_.size() > 64) notes_.erase(notes_.begin());
  }

  std::unique_ptr<Sampler> inner_;
  std::shared_ptr<const std::vector<TrialRecord>> prior_;
  std::uint64_t seed_;
  WarmStartOptions options_;
  std::mutex mutex_;
  std::map<int, json> notes_;  // by trial number
};

}  // namespace

WarmStartState warm_start_state(const SampleContext& c, const std::vector<TrialRecord>& prior,
                                const WarmStartOptions& o) {
  const double sign = c.direction == Direction::Maximize ? -1.0 : 1.0;  // lower is better below
  WarmStartState state;

  // The old trials usable here, at most max_prior of them evenly spaced by value rank.
  std::vector<const TrialRecord*> old;
  for (const TrialRecord& t : prior)
    if (t.state == TrialState::Complete && t.value && std::isfinite(*t.value) && !t.params.empty())
      old.push_back(&t);
  std::stable_sort(old.begin(), old.end(), [&](const TrialRecord* a, const TrialRecord* b) {
    return sign * *a->value < sign * *b->value;
  });
  if (static_cast<int>(old.size()) > o.max_prior) {
    std::vector<const TrialRecord*> kept;
    for (std::size_t i : evenly_spaced(old.size(), static_cast<std::size_t>(o.max_prior))) kept.push_back(old[i]);
    old = std::move(kept);
  }
  state.old = static_cast<int>(old.size());
  if (old.empty()) return state;
  std::vector<std::vector<double>> ou;
  std::vector<double> oy;
  for (const TrialRecord* t : old) {
    ou.push_back(cube_point(c.space, t->params));
    oy.push_back(sign * *t->value);
  }

  // The old surface's bandwidth: the median distance from an old point to its nearest one.
  std::vector<double> nearest;
  for (std::size_t i = 0; i < ou.size(); ++i) {
    double best = std::numeric_limits<double>::infinity();
    for (std::size_t j = 0; j < ou.size(); ++j)
      if (j != i) best = std::min(best, squared_distance(ou[i], ou[j]));
    if (std::isfinite(best)) nearest.push_back(std::sqrt(best));
  }
  const double h = std::max(median(nearest), 1e-3);
  auto old_surface = [&](const std::vector<double>& x) {
    double num = 0, den = 0;
    for (std::size_t j = 0; j < ou.size(); ++j) {
      const double k = std::exp(-squared_distance(x, ou[j]) / (2 * h * h));
      num += k * oy[j];
      den += k;
    }
    if (den > 1e-300) return num / den;
    // Far from every old point: the nearest one's value.
    std::size_t best = 0;
    for (std::size_t j = 1; j < ou.size(); ++j)
      if (squared_distance(x, ou[j]) < squared_distance(x, ou[best])) best = j;
    return oy[best];
  };

  // The new complete trials against the old surface's predictions.
  std::vector<std::vector<double>> nu;
  std::vector<double> predicted, observed, offsets;
  for (const TrialRecord& t : c.history) {
    if (t.number == c.trial_number || t.params.empty()) continue;
    if (t.state != TrialState::Complete || !t.value || !std::isfinite(*t.value)) continue;
    nu.push_back(cube_point(c.space, t.params));
    predicted.push_back(old_surface(nu.back()));
    observed.push_back(sign * *t.value);
    offsets.push_back(observed.back() - predicted.back());
  }
  state.trials = static_cast<int>(observed.size());
  const double n = state.trials >= 3 ? state.trials : 0;
  if (n > 0) state.rho = spearman(predicted, observed);
  state.weight = std::clamp((n * state.rho + o.strength * o.belief) / (n + o.strength), 0.0, 1.0);
  state.offset = median(offsets);

  // The old trials shown (to a warm suggestion): those not near a new trial.
  std::vector<std::size_t> far;
  const double near2 = o.near * o.near * static_cast<double>(c.space.size());
  for (std::size_t j = 0; j < ou.size(); ++j)
    if (std::none_of(nu.begin(), nu.end(), [&](const std::vector<double>& x) { return squared_distance(x, ou[j]) < near2; }))
      far.push_back(j);
  int number = -1;
  for (std::size_t i = 0; state.weight > 0 && i < far.size(); ++i) {
    TrialRecord t = *old[far[i]];
    t.id = number;
    t.number = number--;
    t.value = sign * (oy[far[i]] + state.offset);
    t.intermediate.clear();
    state.shown.push_back(std::move(t));
  }
  state.prior = static_cast<int>(state.shown.size());
  return state;
}

std::unique_ptr<Sampler> make_warm_start_sampler(std::unique_ptr<Sampler> inner,
                                                 std::shared_ptr<const std::vector<TrialRecord>> prior,
                                                 std::uint64_t seed, const WarmStartOptions& options) {
  if (!prior || prior->empty()) return inner;
  return std::make_unique<WarmStartSampler>(std::move(inner), std::move(prior), seed, options);
}

}  // namespace caviar
