// The in-process executor: a C++ function as the objective (include/caviar/executor.h).
#include <cmath>

#include <fmt/core.h>

#include "base/format.h"
#include "caviar/error.h"
#include "caviar/executor.h"

namespace caviar {
namespace {

class FunctionExecutor final : public Executor {
 public:
  explicit FunctionExecutor(std::function<double(Trial&)> f) : f_(std::move(f)) {}
  TrialOutcome run(Trial& trial, const TrialContext& ctx) override {
    trial.set_sinks(ctx.report, ctx.should_stop);
    TrialOutcome out;
    try {
      double v = f_(trial);
      out.value = v;
      if (std::isfinite(v)) {
        out.state = TrialState::Complete;
      } else {
        out.state = TrialState::Failed;
        out.reason = fmt::format("the objective returned {}", detail::shortest(v));
        out.value.reset();
      }
    } catch (const TrialPruned&) {
      out.state = TrialState::Pruned;
      out.reason = "stopped";
      if (!trial.record().intermediate.empty()) out.value = trial.record().intermediate.rbegin()->second;
    } catch (const std::exception& e) {
      out.state = TrialState::Failed;
      out.reason = std::string("the objective threw: ") + e.what();
    }
    return out;
  }

 private:
  std::function<double(Trial&)> f_;
};

}  // namespace

std::unique_ptr<Executor> make_function_executor(std::function<double(Trial&)> objective) {
  return std::make_unique<FunctionExecutor>(std::move(objective));
}

}  // namespace caviar
