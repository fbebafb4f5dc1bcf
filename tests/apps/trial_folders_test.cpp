// Trial folders (issue 29): they follow the study that --study names, stay inside
// caviar-runs whatever the name, and are never shared by two studies. The real binary and
// real SQLite files.
#include <gtest/gtest.h>

#include <filesystem>
#include <set>
#include <string>

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

std::string config(const std::string& study, const std::string& extra = "") {
  return "study: " + json(study).dump() + "\n"
         "storage: sqlite:///study.db\n"
         "metric: value\n"
         "objective:\n"
         "  command: [sh, -c, 'echo value=1; echo \"$CAVIAR_STUDY\" > \"$CAVIAR_TRIAL_DIR/study.txt\"']\n"
         "parameters:\n"
         "  x: {type: float, low: 0, high: 1}\n"
         "budget: {trials: 2}\n" + extra;
}

// The trial folders a study's trials were given (the caviar:trial_dir attribute).
std::vector<fs::path> trial_dirs(const TempDir& dir, const std::string& study) {
  CliResult r = run_caviar(dir.path(), {"trials", "--storage", "sqlite:///study.db", "--study", study, "--format", "json"});
  EXPECT_EQ(r.rc, 0) << r.describe();
  std::vector<fs::path> out;
  try {
    for (const auto& t : json::parse(r.out))
      out.push_back(t["system_attrs"].value("caviar:trial_dir", std::string()));
  } catch (const std::exception& e) {
    ADD_FAILURE() << e.what() << "\n" << r.out;
  }
  return out;
}

// Whether `path` lies under `root` (both made absolute and normal, symlinks resolved).
bool inside(const fs::path& path, const fs::path& root) {
  const std::string p = fs::weakly_canonical(path).string(), r = fs::weakly_canonical(root).string() + "/";
  return p.rfind(r, 0) == 0;
}

TEST(TrialFolders, StudyOverrideGetsFoldersOfItsOwn) {
  TempDir dir;
  write_file(dir / "cfg.yaml", config("base"));
  for (const char* study : {"first", "second"}) {
    CliResult r = run_caviar(dir.path(), {"tune", "cfg.yaml", "--study", study, "-q"});
    ASSERT_EQ(r.rc, 0) << r.describe();
  }
  std::set<fs::path> roots;
  for (const char* study : {"first", "second"}) {
    auto dirs = trial_dirs(dir, study);
    ASSERT_EQ(dirs.size(), 2u) << study;
    for (const auto& d : dirs) {
      EXPECT_TRUE(inside(d, dir / "caviar-runs")) << d;
      // the folder's own study wrote there, not the config's
      EXPECT_EQ(caviar::testing::read_file(d / "study.txt"), std::string(study) + "\n") << d;
      EXPECT_EQ(d.parent_path().filename().string().rfind(std::string(study) + "-", 0), 0u) << d;
    }
    roots.insert(dirs[0].parent_path());
  }
  EXPECT_EQ(roots.size(), 2u) << "two studies share a trial folder";
  EXPECT_FALSE(fs::exists(dir / "caviar-runs" / "base")) << "the config's name was used for the folders";
}

TEST(TrialFolders, NamesThatArePathsStayInsideCaviarRuns) {
  TempDir dir;
  fs::create_directories(dir / "project");
  const fs::path project = dir / "project";
  write_file(project / "cfg.yaml", config("../../escaped"));
  CliResult r = run_caviar(project, {"tune", "cfg.yaml", "-q"});
  ASSERT_EQ(r.rc, 0) << r.describe();
  std::vector<std::string> names = {"../../escaped", "/tmp/absolute", ".", "..", "a/../../b", "étude", "-", " "};
  for (std::size_t i = 1; i < names.size(); ++i) {
    r = run_caviar(project, {"tune", "cfg.yaml", "--study", names[i], "-q"});
    ASSERT_EQ(r.rc, 0) << names[i] << ": " << r.describe();
  }
  std::set<fs::path> roots;
  for (const auto& name : names) {
    CliResult t = run_caviar(project, {"trials", "--storage", "sqlite:///study.db", "--study", name, "--format", "json"});
    ASSERT_EQ(t.rc, 0) << name << ": " << t.describe();
    for (const auto& trial : json::parse(t.out)) {
      const fs::path d = trial["system_attrs"].value("caviar:trial_dir", std::string());
      EXPECT_TRUE(inside(d, project / "caviar-runs")) << name << " -> " << d;
      EXPECT_TRUE(fs::exists(d / "params.json")) << d;
      roots.insert(fs::weakly_canonical(d.parent_path()));
    }
  }
  EXPECT_EQ(roots.size(), names.size()) << "some of these studies share folders";
  EXPECT_FALSE(fs::exists(dir / "escaped"));
  EXPECT_FALSE(fs::exists(dir.path().parent_path() / "escaped"));
  EXPECT_FALSE(fs::exists(dir / "b"));
  // nothing but the study folders directly under caviar-runs
  for (const auto& entry : fs::directory_iterator(project / "caviar-runs"))
    EXPECT_TRUE(entry.is_directory()) << entry.path();
}

TEST(TrialFolders, ARestartedStudyKeepsItsFolder) {
  TempDir dir;
  write_file(dir / "cfg.yaml", config("again"));
  ASSERT_EQ(run_caviar(dir.path(), {"tune", "cfg.yaml", "--trials", "1", "-q"}).rc, 0);
  ASSERT_EQ(run_caviar(dir.path(), {"tune", "cfg.yaml", "-q"}).rc, 0);
  auto dirs = trial_dirs(dir, "again");
  ASSERT_EQ(dirs.size(), 2u);
  EXPECT_EQ(dirs[0].parent_path(), dirs[1].parent_path());
  EXPECT_NE(dirs[0], dirs[1]);
}

TEST(TrialFolders, TheSameNameInAnotherStorageGetsAnotherFolder) {
  TempDir dir;
  write_file(dir / "cfg.yaml", config("same"));
  ASSERT_EQ(run_caviar(dir.path(), {"tune", "cfg.yaml", "-q"}).rc, 0);
  ASSERT_EQ(run_caviar(dir.path(), {"tune", "cfg.yaml", "--storage", "sqlite:///other.db", "-q"}).rc, 0);
  CliResult other = run_caviar(dir.path(), {"trials", "--storage", "sqlite:///other.db", "--study", "same", "--format", "json"});
  ASSERT_EQ(other.rc, 0) << other.describe();
  const fs::path a = trial_dirs(dir, "same").at(0).parent_path();
  const fs::path b = fs::path(json::parse(other.out).at(0)["system_attrs"].value("caviar:trial_dir", "")).parent_path();
  EXPECT_NE(a, b);
}

TEST(TrialFolders, AnExplicitTrialDirIsNotSharedByTwoStudies) {
  TempDir dir;
  write_file(dir / "cfg.yaml", config("owner", "trial_dir: runs\n"));
  ASSERT_EQ(run_caviar(dir.path(), {"tune", "cfg.yaml", "-q"}).rc, 0);
  EXPECT_TRUE(fs::exists(dir / "runs" / "0000" / "params.json"));
  CliResult r = run_caviar(dir.path(), {"tune", "cfg.yaml", "--study", "intruder", "-q"});
  EXPECT_EQ(r.rc, 2) << r.describe();
  EXPECT_TRUE(one_error_line(r, "trial_dir: "));
  EXPECT_NE(r.err.find("study 'owner'"), std::string::npos) << r.err;
  // refused before anything was stored: no study 'intruder'
  CliResult studies = run_caviar(dir.path(), {"studies", "--storage", "sqlite:///study.db", "--format", "json"});
  ASSERT_EQ(studies.rc, 0) << studies.describe();
  EXPECT_EQ(json::parse(studies.out).size(), 1u) << studies.out;
  // the owner goes on in its folder
  r = run_caviar(dir.path(), {"tune", "cfg.yaml", "--trials", "3", "-q"});
  EXPECT_EQ(r.rc, 0) << r.describe();
  EXPECT_TRUE(fs::exists(dir / "runs" / "0002" / "params.json"));
}

}  // namespace
