// Devices per trial (issue 29): with resources.gpus (or --gpus) each running trial has its
// own devices, seen as CUDA_VISIBLE_DEVICES and CAVIAR_GPU, and no more trials run at once
// than there are slots. No GPU is needed: the trials are real processes that write down
// what they were given and when they ran, and the test checks that no two trials that
// overlapped in time shared a device.
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "support/cli.h"
#include "support/files.h"

namespace fs = std::filesystem;
using json = nlohmann::json;
using caviar::testing::CliResult;
using caviar::testing::one_error_line;
using caviar::testing::run_caviar;
using caviar::testing::TempDir;
using caviar::testing::write_file;

namespace {

// Each trial writes "<start> <end> <CUDA_VISIBLE_DEVICES> <CAVIAR_GPU or ->" into its folder.
std::string config(int trials, const std::string& extra) {
  return "study: gpus\n"
         "storage: sqlite:///study.db\n"
         "metric: value\n"
         "objective:\n"
         "  command: [sh, -c, 'start=$(date +%s.%N); sleep 0.4; echo \"$start $(date +%s.%N) "
         "${CUDA_VISIBLE_DEVICES:--} ${CAVIAR_GPU:--}\" > \"$CAVIAR_TRIAL_DIR/devices.txt\"; echo value=1']\n"
         "parameters:\n"
         "  x: {type: float, low: 0, high: 1}\n"
         "budget: {trials: " + std::to_string(trials) + "}\n" + extra;
}

struct Ran {
  int number = 0;
  double start = 0, end = 0;
  std::string visible, caviar_gpu;  // as the trial saw them
  std::string stored;               // caviar:gpus, joined with ','
};

std::vector<Ran> trials_of(const TempDir& dir) {
  CliResult r = run_caviar(dir.path(), {"trials", "--storage", "sqlite:///study.db", "--study", "gpus", "--format", "json"});
  EXPECT_EQ(r.rc, 0) << r.describe();
  std::vector<Ran> out;
  for (const auto& t : json::parse(r.out)) {
    EXPECT_EQ(t["state"], "complete") << t.dump();
    Ran ran;
    ran.number = t["number"];
    for (const auto& id : t["system_attrs"].value("caviar:gpus", json::array()))
      ran.stored += (ran.stored.empty() ? "" : ",") + id.get<std::string>();
    std::ifstream in(fs::path(t["system_attrs"].value("caviar:trial_dir", std::string())) / "devices.txt");
    in >> ran.start >> ran.end >> ran.visible >> ran.caviar_gpu;
    EXPECT_TRUE(in) << "trial " << ran.number << " left no devices.txt";
    out.push_back(ran);
  }
  return out;
}

// The most trials that ran at one moment.
int most_at_once(const std::vector<Ran>& trials) {
  int most = 0;
  for (const Ran& a : trials) {
    int at_once = 0;
    for (const Ran& b : trials) at_once += b.start <= a.start && a.start < b.end;
    most = std::max(most, at_once);
  }
  return most;
}

// "2,3" as {"2", "3"}.
std::set<std::string> devices(const std::string& list) {
  std::set<std::string> out;
  for (std::size_t i = 0, j; i <= list.size(); i = j + 1) {
    j = std::min(list.find(',', i), list.size());
    out.insert(list.substr(i, j - i));
  }
  return out;
}

void expect_no_device_shared_while_running(const std::vector<Ran>& trials) {
  for (const Ran& a : trials)
    for (const Ran& b : trials) {
      if (a.number >= b.number || a.end <= b.start || b.end <= a.start) continue;
      for (const std::string& d : devices(b.visible))
        EXPECT_FALSE(devices(a.visible).count(d))
            << "trials " << a.number << " and " << b.number << " ran at once on " << a.visible << " and " << b.visible;
    }
}

TEST(Gpus, EachRunningTrialHasItsOwnDeviceAndTheSlotsCapTrialsAtOnce) {
  TempDir dir;
  write_file(dir / "cfg.yaml", config(9, "resources: {gpus: [0, 1, 2]}\n"));
  // Eight asked for, three slots: three at a time, said once on stderr.
  CliResult r = run_caviar(dir.path(), {"tune", "cfg.yaml", "--parallel", "8", "-q"});
  ASSERT_EQ(r.rc, 0) << r.describe();
  EXPECT_NE(r.err.find("3 trials at a time, not 8"), std::string::npos) << r.err;
  const std::vector<Ran> trials = trials_of(dir);
  ASSERT_EQ(trials.size(), 9u);
  std::set<std::string> used;
  for (const Ran& t : trials) {
    EXPECT_TRUE(t.visible == "0" || t.visible == "1" || t.visible == "2") << t.visible;
    EXPECT_EQ(t.caviar_gpu, t.visible);
    EXPECT_EQ(t.stored, t.visible) << "trial " << t.number;
    used.insert(t.visible);
  }
  expect_no_device_shared_while_running(trials);
  EXPECT_LE(most_at_once(trials), 3);
  EXPECT_GE(most_at_once(trials), 2) << "the slots ran one trial at a time";
  EXPECT_GE(used.size(), 2u);
}

TEST(Gpus, SeveralDevicesPerTrialFromTheCommandLine) {
  TempDir dir;
  write_file(dir / "cfg.yaml", config(6, "resources: {gpus_per_trial: 2}\n"));
  // The environment's own value is replaced by the trial's devices.
  CliResult r = run_caviar(dir.path(), {"tune", "cfg.yaml", "--gpus", "4,5,GPU-aa11,7", "-q"},
                           std::chrono::seconds(60), [] { setenv("CUDA_VISIBLE_DEVICES", "9", 1); });
  ASSERT_EQ(r.rc, 0) << r.describe();
  const std::vector<Ran> trials = trials_of(dir);
  ASSERT_EQ(trials.size(), 6u);
  for (const Ran& t : trials) {
    EXPECT_TRUE(t.visible == "4,5" || t.visible == "GPU-aa11,7") << t.visible;
    EXPECT_EQ(t.caviar_gpu, t.visible);
    EXPECT_EQ(t.stored, t.visible);
  }
  expect_no_device_shared_while_running(trials);
  EXPECT_LE(most_at_once(trials), 2);
}

TEST(Gpus, WithoutDevicesTheEnvironmentIsLeftAlone) {
  TempDir dir;
  write_file(dir / "cfg.yaml", config(2, ""));
  CliResult r = run_caviar(dir.path(), {"tune", "cfg.yaml", "-q"}, std::chrono::seconds(60), [] {
    setenv("CUDA_VISIBLE_DEVICES", "6", 1);
    setenv("CAVIAR_GPU", "6", 1);  // a parent trial's: not this one's
  });
  ASSERT_EQ(r.rc, 0) << r.describe();
  for (const Ran& t : trials_of(dir)) {
    EXPECT_EQ(t.visible, "6");
    EXPECT_EQ(t.caviar_gpu, "-");
    EXPECT_EQ(t.stored, "");
  }
}

TEST(Gpus, BadDevicesAreRefusedBeforeAnythingIsStored) {
  TempDir dir;
  write_file(dir / "cfg.yaml", config(2, ""));
  for (const char* list : {"0,0", "0,,1", "$(reboot)", ""}) {
    CliResult r = run_caviar(dir.path(), {"tune", "cfg.yaml", "--gpus", list});
    EXPECT_EQ(r.rc, 2) << list << "\n" << r.describe();
    EXPECT_TRUE(one_error_line(r, "--gpus")) << list;
  }
  write_file(dir / "cfg.yaml", config(2, "resources: {gpus: [0], gpus_per_trial: 2}\n"));
  CliResult r = run_caviar(dir.path(), {"tune", "cfg.yaml"});
  EXPECT_EQ(r.rc, 2) << r.describe();
  EXPECT_TRUE(one_error_line(r, "resources.gpus_per_trial"));
  EXPECT_FALSE(fs::exists(dir / "study.db"));
}

}  // namespace
