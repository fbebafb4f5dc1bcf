// The trial sources (include/caviar/tuner.h): the study's sampler, PBT's segments and
// the babysat model's.
#include <filesystem>
#include <thread>

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
      return detail::segment_draft(std::move(segment->params), attr::kPbt, std::move(segment->lineage),
                                   segment->restore_source, trial_root, number);
    });
  }

  std::string prepare(const Trial& trial, TrialContext& context) override {
    return detail::prepare_segment(trial.record(), pbt_lineage_of(trial.record()), context);
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

// Babysitting: the next segment of the one model, decided inside the storage's transaction
// from the stored segments and the study's controls (babysit_next); while paused, it
// waits here, looking again every `poll`.
class BabysitSource final : public TrialSource {
 public:
  explicit BabysitSource(BabysitSetup setup)
      : setup_(std::move(setup)), started_(make_babysit_control("resume").id) {}

  std::optional<Trial> next(Study& study, const fs::path& trial_root) override {
    bool told = false;  // this pause was told to on_decision
    while (!study.stopping()) {
      const auto record = study.storage().find_study(study.record().name);
      const std::vector<BabysitControl> controls = babysit_controls(record ? record->system_attrs : json::object());
      if (babysit_paused_since(controls) && !babysit_stop_after(controls, started_)) {
        // Paused: wait, reading the controls only (no transaction until it resumes).
        if (!told && setup_.on_decision) setup_.on_decision({BabysitDecision::Kind::Paused, kBabysitPaused});
        told = true;
        std::this_thread::sleep_for(setup_.poll);
        continue;
      }
      told = false;
      BabysitDecision decision;
      auto trial = study.ask([&](const std::vector<TrialRecord>& history, const Params&,
                                 int number) -> std::optional<TrialDraft> {
        decision = babysit_next(study.space(), study.options().direction, setup_.options, history, controls,
                                started_, setup_.first, setup_.origin, setup_.metric, setup_.fixed);
        if (decision.kind != BabysitDecision::Kind::Run) return std::nullopt;
        return detail::segment_draft(decision.params, attr::kBabysit, decision.lineage, decision.restore_source,
                                     trial_root, number);
      });
      if (trial) return trial;
      if (setup_.on_decision) setup_.on_decision(decision);  // done, stopped, failed or busy
      return std::nullopt;
    }
    return std::nullopt;
  }

  std::string prepare(const Trial& trial, TrialContext& context) override {
    return detail::prepare_segment(trial.record(), babysit_lineage_of(trial.record()), context);
  }

  std::string check(const std::map<std::int64_t, double>& reports, const TrialContext& context) override {
    return detail::check_segment(reports, context, setup_.options.max_steps);
  }

  bool study_retries() const override { return false; }

  // Every checkpoint is kept: a rollback may go back to any of them.
  void after(Study&, const TrialContext& context) override { detail::cleanup_segment(context); }

 private:
  BabysitSetup setup_;
  std::string started_;  // controls with a later id were given after this start
};

}  // namespace

std::unique_ptr<TrialSource> make_sampler_source(bool heartbeat) {
  return std::make_unique<SamplerSource>(heartbeat);
}

std::unique_ptr<TrialSource> make_pbt_source(const Study& study, PbtOptions options) {
  return std::make_unique<PbtSource>(study, std::move(options));
}

std::unique_ptr<TrialSource> make_babysit_source(BabysitSetup setup) {
  return std::make_unique<BabysitSource>(std::move(setup));
}

fs::path trial_dir(const fs::path& trial_root, int number) {
  return trial_root / fmt::format("{:04d}", number);
}

}  // namespace caviar
