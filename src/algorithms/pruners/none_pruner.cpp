// The pruner that never prunes: every trial runs to the end.
#include "algorithms/pruners/pruners.h"

namespace caviar::pruners {
namespace {

class NonePruner final : public Pruner {
 public:
  std::string name() const override { return "none"; }
  bool should_prune(const TrialRecord&, const std::vector<TrialRecord>&,
                    Direction) const override {
    return false;
  }
};

}  // namespace

std::unique_ptr<Pruner> make_none_pruner() { return std::make_unique<NonePruner>(); }

}  // namespace caviar::pruners
