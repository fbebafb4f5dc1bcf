// Grid search: every combination of a few values per parameter. Kept for small spaces and
// for the comparison the seed makes: a grid of 25 points tests only 5 values of each
// parameter, where 25 random points test 25.
//
// The next trial takes the lowest-index grid point that no trial has taken (running,
// waiting or finished; failures that do not count are free again). Study::ask calls the
// sampler inside the storage's write transaction, so parallel workers never take the same
// point twice.
#include <mutex>
#include <set>

#include <fmt/core.h>

#include "caviar/error.h"
#include "caviar/sampler.h"
#include "algorithms/samplers/factories.h"

namespace caviar {
namespace {

constexpr std::size_t kMaxGridPoints = 1'000'000;

class GridSampler final : public Sampler {
 public:
  explicit GridSampler(int points) : points_(std::max(points, 2)) {}
  std::string name() const override { return "grid"; }

  std::optional<Params> suggest(const SampleContext& c) override {
    const std::vector<Params>& grid = grid_for(c.space);
    std::set<Params> taken;
    for (const auto& t : c.history)
      if (t.counted() && t.state != TrialState::Waiting) taken.insert(t.params);
    for (const auto& point : grid) {
      if (taken.count(point)) continue;
      bool fits = true;  // an enqueued trial's fixed values must match
      for (const auto& [name, value] : c.fixed) {
        auto it = point.find(name);
        fits &= it != point.end() && it->second == value;
      }
      if (fits) return point;
    }
    return std::nullopt;
  }

 private:
  // The values of one parameter on the grid, as unit-cube coordinates.
  std::vector<double> axis(const Parameter& p) const {
    std::vector<double> u;
    std::size_t n = p.cardinality();
    if (n == 0 || n > static_cast<std::size_t>(points_)) {
      for (int k = 0; k < points_; ++k) {
        double x = p.from_unit(static_cast<double>(k) / (points_ - 1));
        if (u.empty() || p.from_unit(u.back()) != x) u.push_back(p.to_unit(x));
      }
      // to_unit of a continuous float's end points is exactly 0 and 1.
    } else {
      for (std::size_t k = 0; k < n; ++k) u.push_back((k + 0.5) / static_cast<double>(n));
    }
    return u;
  }

  const std::vector<Params>& grid_for(const SearchSpace& space) {
    std::lock_guard lock(mutex_);
    json key = space.to_config_json();
    if (!grid_.empty() && key == key_) return grid_;
    std::vector<std::vector<double>> axes;
    std::size_t total = 1;
    for (const auto& p : space.params()) {
      axes.push_back(axis(p));
      total *= axes.back().size();
      if (total > kMaxGridPoints)
        throw ConfigError("sampler.points", fmt::format("the grid has over {} points; lower "
                                                        "'points' or use random or sobol",
                                                        kMaxGridPoints));
    }
    std::vector<Params> grid;
    std::set<Params> seen;  // conditional parameters collapse several combinations into one
    std::vector<std::size_t> index(axes.size(), 0);
    std::vector<double> u(axes.size());
    for (std::size_t n = 0; n < total; ++n) {
      for (std::size_t d = 0; d < axes.size(); ++d) u[d] = axes[d][index[d]];
      Params point = space.from_unit(u);
      if (seen.insert(point).second) grid.push_back(std::move(point));
      for (std::size_t d = axes.size(); d-- > 0;) {  // odometer, last parameter fastest
        if (++index[d] < axes[d].size()) break;
        index[d] = 0;
      }
    }
    grid_ = std::move(grid);
    key_ = key;
    return grid_;
  }

  int points_;
  std::mutex mutex_;
  std::vector<Params> grid_;
  json key_;
};

}  // namespace

std::unique_ptr<Sampler> make_grid_sampler(int points) {
  return std::make_unique<GridSampler>(points);
}

namespace detail {

std::unique_ptr<Sampler> grid_sampler_from(std::uint64_t, Settings& settings) {
  return make_grid_sampler(settings.integer("points", 5, 1, 1'000'000));
}

}  // namespace detail
}  // namespace caviar
