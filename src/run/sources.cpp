// The trial sources (include/caviar/tuner.h): the study's sampler, and PBT's segments.
#include <filesystem>

#include <fmt/core.h>

#include "caviar/attributes.h"
#include "caviar/tuner.h"
#include "run/segment.h"

namespace caviar {
namespace {

namespace fs = std::filesystem;

class SamplerSource final : public TrialSource {
 public:
  explicit SamplerSource(bool heartbeat) : heartbeat_(heartbeat) {}
  std::optional<Trial> next(Study& study, const fs::path&) override { return study.ask(heartbeat_); }

 private:
  bool heartbeat_;
};

// PBT: the scheduler proposes each segment inside the storage's transaction, and reruns
// failed segments itself, so the study's retry rule stays out of it.
class PbtSource final : public TrialSource {
 public:
  PbtSource(const Study& study, PbtOptions options)
      : scheduler_(std::move(options), study.space(), study.options().direction,
                   study.options().sampler, study.options().retry) {}

  std::optional<Trial> next(Study& study, const fs::path& trial_root) override {
    return study.ask([&](const std::vector<TrialRecord>& history, const Params& fixed,
                         int number) -> std::optional<TrialDraft> {
      auto segment = scheduler_.next(history, fixed);
      if (!segment) return std::nullopt;
      TrialDraft draft{std::move(segment->params), {{attr::kPbt, segment->lineage}}};
      draft.system_attrs[attr::kCheckpointDir] =
          fs::absolute(trial_dir(trial_root, number) / "checkpoint").string();
      if (!segment->restore_source.empty())
        draft.system_attrs[attr::kRestoreSource] = segment->restore_source;
      return draft;
    });
  }

  std::string prepare(const Trial& trial, TrialContext& context) override {
    return detail::prepare_segment(trial.record(), context);
  }

  std::string check(const std::map<std::int64_t, double>& reports,
                    const TrialContext& context) override {
    return detail::check_segment(reports, context, scheduler_.options().max_steps);
  }

  bool study_retries() const override { return false; }

  void after(Study& study, const TrialContext& context) override {
    detail::cleanup_segment(context);
    if (scheduler_.options().keep_checkpoints) return;
    // Disk: a checkpoint no segment can restore any more is removed (each worker may do
    // it; removing a removed folder is a no-op).
    try {
      for (const auto& dir : scheduler_.superseded_checkpoints(study.trials())) {
        std::error_code ec;
        fs::remove_all(dir, ec);
      }
    } catch (const std::exception&) {
      // The storage is unreachable: the next segment's end tries again.
    }
  }

  int planned_trials() const override { return scheduler_.planned_trials(); }

 private:
  PbtScheduler scheduler_;
};

}  // namespace

std::unique_ptr<TrialSource> make_sampler_source(bool heartbeat) {
  return std::make_unique<SamplerSource>(heartbeat);
}

std::unique_ptr<TrialSource> make_pbt_source(const Study& study, PbtOptions options) {
  return std::make_unique<PbtSource>(study, std::move(options));
}

fs::path trial_dir(const fs::path& trial_root, int number) {
  return trial_root / fmt::format("{:04d}", number);
}

}  // namespace caviar
