// caviar train: one run of the built-in MLP, printing the trial protocol's metric lines.
#include <cstdio>
#include <cstdlib>
#include <map>
#include <memory>
#include <string>
#include <utility>

#include <fmt/core.h>

#include "caviar/nn.h"
#include "command.h"

namespace {

constexpr const char* kFooter = R"(
Prints one line per epoch on stdout, then the test-set result:
  epoch=1 train_loss=0.5144 val_loss=0.4138 val_acc=0.8531
  ...
  test_loss=0.3880 test_acc=0.8574
Fashion-MNIST: 50,000 training, 10,000 validation (the training file's last), 10,000 test
images. CSV: 70/15/15 split, fixed. Exit status: 0 done, 2 bad flags or data, 3 diverged.
As a trial of a scheduler (PBT), it honours the protocol's variables:
CAVIAR_CHECKPOINT_DIR and CAVIAR_RESTORE_FROM when --checkpoint-dir and --restore-from are
not given, and CAVIAR_STOP_AT always (it replaces --epochs: the segment's last epoch);
after a restore from epoch e it prints epochs e+1 .. the last.
Example: caviar train --optimizer momentum --lr 0.05 --layers 3 --units 256 --epochs 5)";

}  // namespace

static caviar::cli::CommandRegistrar reg(50, [](CLI::App& app) {
  auto* cmd = app.add_subcommand("train", "Train the built-in MLP once and print its metrics");
  cmd->footer(kFooter);
  // Flag values stay text here; the library parses and validates them (one error model).
  auto values = std::make_shared<std::map<std::string, std::string>>();
  for (const auto& option : caviar::nn::train_options()) {
    const std::string flag(option.flag);
    cmd->add_option("--" + flag, (*values)[flag], std::string(option.help))
        ->type_name(std::string(option.value));
  }
  cmd->callback([cmd, values] {
    caviar::nn::TrainConfig config;
    for (const auto& [flag, value] : *values)
      if (cmd->count("--" + flag) > 0) caviar::nn::set_option(config, flag, value);
    // The trial protocol's checkpoint variables (docs/protocol.md). The folders' flags win;
    // CAVIAR_STOP_AT always does, since it is where the scheduler ends this segment, while
    // --epochs in a command line is the whole run's length.
    for (const auto& [flag, variable] : {std::pair{"checkpoint-dir", "CAVIAR_CHECKPOINT_DIR"},
                                         std::pair{"restore-from", "CAVIAR_RESTORE_FROM"},
                                         std::pair{"epochs", "CAVIAR_STOP_AT"}}) {
      const char* value = std::getenv(variable);
      bool flag_given = cmd->count(std::string("--") + flag) > 0;
      if (value && *value && (!flag_given || std::string(flag) == "epochs"))
        caviar::nn::set_option(config, flag, value);
    }
    caviar::nn::validate(config);
    const auto result = caviar::nn::train(config, [](const caviar::nn::EpochReport& r) {
      fmt::print("epoch={} train_loss={:.4f} val_loss={:.4f} val_acc={:.4f}\n", r.epoch,
                 r.train_loss, r.val_loss, r.val_acc);
      std::fflush(stdout);
      return true;
    });
    if (result.diverged) {
      std::fflush(stdout);
      fmt::print(stderr,
                 "caviar train: diverged in epoch {}: {} (try a smaller --lr)\n",
                 result.diverged_epoch, result.diverged_reason);
      caviar::cli::exit_code() = 3;
      return;
    }
    fmt::print("test_loss={:.4f} test_acc={:.4f}\n", result.test_loss, result.test_acc);
    std::fflush(stdout);
  });
});
