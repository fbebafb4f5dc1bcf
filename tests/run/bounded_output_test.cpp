// Whatever a trial prints, caviar keeps a bounded part of it: stored reasons and stderr
// tails are a few KB, and reading stdout takes one pass over it and a few KB of memory
// for any line length (issue 29, item 1). Real `caviar tune` processes, real trials; peak
// memory and CPU time from wait4 (caviar and the trials it waited for).
#include <gtest/gtest.h>

#include <filesystem>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "base/bounded_text.h"
#include "run/trial_output.h"
#include "caviar/config.h"
#include "support/cli.h"
#include "support/files.h"

namespace fs = std::filesystem;
using json = nlohmann::json;
using caviar::testing::CliResult;
using caviar::testing::run_caviar;
using caviar::testing::TempDir;
using caviar::testing::write_file;

namespace {

fs::path write_study(const fs::path& dir, const std::string& command, const std::string& extra = "") {
  write_file(dir / "cfg.yaml", "study: out\nstorage: sqlite:///study.db\nmetric: value\n"
                               "objective:\n  command: " + command + "\n"
                               "parameters:\n  x: {type: float, low: 0, high: 1}\n"
                               "budget: {trials: 1}\n" + extra);
  return dir / "cfg.yaml";
}

json only_trial(const fs::path& dir, const fs::path& cfg) {
  CliResult r = run_caviar(dir, {"trials", cfg.string(), "--format", "json"});
  EXPECT_EQ(r.rc, 0) << r.describe();
  json trials = json::parse(r.out, nullptr, false);
  if (!trials.is_array() || trials.size() != 1) {
    ADD_FAILURE() << "expected one trial: " << r.out.substr(0, 2000);
    return json::object();
  }
  return trials[0];
}

std::uintmax_t database_bytes(const fs::path& dir) {
  std::uintmax_t total = 0;
  for (const char* name : {"study.db", "study.db-wal", "study.db-shm"}) {
    std::error_code ec;
    auto size = fs::file_size(dir / name, ec);
    if (!ec) total += size;
  }
  return total;
}

constexpr long kPeakLimitKib = 48 * 1024;  // "well under 100 MB": caviar's own peak is ~10 MB

}  // namespace

TEST(BoundedOutput, TwelveMegabyteStderrLinesStoreAFewKilobytes) {
  TempDir tmp;
  fs::path cfg = write_study(
      tmp.path(),
      "[python3, -c, 'import sys; [sys.stderr.write(str(i) + \"e\" * (1 << 20) + \"\\n\") for i in range(12)]; "
      "sys.exit(3)']");
  CliResult r = run_caviar(tmp.path(), {"tune", cfg.string(), "-q"});
  EXPECT_EQ(r.rc, 1) << r.describe();  // no trial completed
  json t = only_trial(tmp.path(), cfg);
  const std::string reason = t.value("reason", "");
  const std::string tail = t["system_attrs"].value("caviar:stderr_tail", "");
  EXPECT_EQ(reason.rfind("exit code 3; last lines of stderr:\n", 0), 0u) << reason.substr(0, 300);
  EXPECT_LE(reason.size(), 8192u);
  EXPECT_LE(tail.size(), 4096u);
  EXPECT_GE(tail.size(), 1000u) << "the tail should still show the last lines: " << tail;
  EXPECT_NE(tail.find("11eeee"), std::string::npos) << "the last line's start is kept";
  EXPECT_NE(tail.find("[... 1048578 bytes in all]"), std::string::npos) << tail;
  // The log keeps every byte; the database, a few KB of it.
  EXPECT_EQ(fs::file_size(caviar::load_config(cfg).trial_root / "0000" / "stderr.log"), 12u * (1u << 20) + 26);
  EXPECT_LT(database_bytes(tmp.path()), 1024u * 1024) << "bytes stored in study.db (+wal)";
  EXPECT_LT(r.peak_rss_kib, kPeakLimitKib) << "peak resident KiB of caviar tune and its trial";
}

TEST(BoundedOutput, MegabyteMalformedMetricTokenIsClippedInTheReason) {
  TempDir tmp;
  fs::path cfg = write_study(tmp.path(), "[python3, -c, 'print(\"step=1 value=\" + \"x\" * (1 << 20) + \" more\")']");
  CliResult r = run_caviar(tmp.path(), {"tune", cfg.string(), "-q"});
  EXPECT_EQ(r.rc, 1) << r.describe();
  json t = only_trial(tmp.path(), cfg);
  const std::string reason = t.value("reason", "");
  EXPECT_EQ(reason.rfind("malformed metric line: stdout line 1: 'value=xxxx", 0), 0u) << reason.substr(0, 300);
  EXPECT_NE(reason.find("is not a number"), std::string::npos) << reason;
  EXPECT_NE(reason.find("1048582 bytes in all"), std::string::npos) << reason;
  EXPECT_LE(reason.size(), 400u) << reason;
}

TEST(BoundedOutput, HundredMegabyteLineIsReadInOnePassAndBoundedMemory) {
  TempDir tmp;
  // 100 MB without a newline, then the metric at the end of that same line.
  fs::path cfg = write_study(tmp.path(), "[sh, -c, 'head -c 100000000 /dev/zero | tr \"\\0\" a; echo \" value=0.25\"']");
  CliResult r = run_caviar(tmp.path(), {"tune", cfg.string(), "-q"}, std::chrono::seconds(120));
  ASSERT_EQ(r.rc, 0) << r.describe();
  json t = only_trial(tmp.path(), cfg);
  EXPECT_EQ(t.value("state", ""), "complete") << t.dump();
  EXPECT_EQ(t.value("value", 0.0), 0.25) << t.dump();
  EXPECT_EQ(fs::file_size(caviar::load_config(cfg).trial_root / "0000" / "stdout.log"), 100000000u + 12);
  EXPECT_LT(r.peak_rss_kib, kPeakLimitKib) << "peak resident KiB of caviar tune and its trial";
  // One pass: well under a second of CPU per 100 MB on any machine of the last decade
  // (searching the buffer from its start on every read took 33 s); head and tr included.
  EXPECT_LT(r.cpu_seconds, 6.0) << "CPU seconds, caviar and its trial";
  std::printf("[ measured ] 100 MB line: %.2f s wall, %.2f s CPU, peak %ld KiB\n", r.seconds, r.cpu_seconds,
              r.peak_rss_kib);
}

TEST(BoundedOutput, StderrThatIsNotUtf8IsStoredAsValidText) {
  TempDir tmp;
  fs::path cfg = write_study(tmp.path(), "[sh, -c, 'printf \"bad \\377\\376 bytes\\n\" >&2; exit 4']");
  CliResult r = run_caviar(tmp.path(), {"tune", cfg.string(), "-q"});
  EXPECT_EQ(r.rc, 1) << r.describe();
  json t = only_trial(tmp.path(), cfg);
  EXPECT_EQ(t.value("reason", ""), "exit code 4; last lines of stderr:\nbad \xEF\xBF\xBD\xEF\xBF\xBD bytes");
}

// ---------------------------------------------------------------- the readers themselves

TEST(TrialOutputReaders, MetricAtTheEndOfALongLineFedByteByByteAndInOneChunk) {
  std::string line(300000, 'z');
  line += " epoch=7,value=0.5\nvalue=1e-3\n\nlast value=2";
  for (std::size_t piece : {std::size_t{1}, std::size_t{7}, line.size()}) {
    std::vector<std::string> seen;
    caviar::detail::MetricScanner scanner("value", "epoch", [&](int n, const caviar::detail::MetricLine& m,
                                                                const std::string& error) {
      seen.push_back(std::to_string(n) + ":" + (m.metric ? std::to_string(*m.metric) : "-") + ":" +
                     (m.step ? std::to_string(*m.step) : "-") + ":" + error);
    });
    for (std::size_t i = 0; i < line.size(); i += piece) scanner.feed(line.data() + i, std::min(piece, line.size() - i));
    scanner.finish();
    EXPECT_EQ(seen, (std::vector<std::string>{"1:0.500000:7.000000:", "2:0.001000:-:", "3:-:-:", "4:2.000000:-:"}))
        << "pieces of " << piece;
  }
}

TEST(TrialOutputReaders, StderrTailKeepsTenLinesEachClipped) {
  caviar::detail::StderrTail tail;
  for (int i = 0; i < 30; ++i) {
    std::string line = "line " + std::to_string(i) + (i == 29 ? std::string(5000, 'q') : "") + "\r\n";
    tail.feed(line.data(), line.size());
  }
  const std::string text = tail.text();
  EXPECT_EQ(text.rfind("line 20\nline 21\n", 0), 0u) << text;
  EXPECT_NE(text.find("line 28\nline 29qqq"), std::string::npos) << text;
  EXPECT_NE(text.find("[... 5007 bytes in all]"), std::string::npos) << text;
  EXPECT_LE(text.size(), caviar::detail::StderrTail::kLimit);
}

TEST(TrialOutputReaders, ClippedTextIsValidUtf8WithinItsLimit) {
  const std::string euro = "\xE2\x82\xAC";  // three bytes
  std::string text;
  for (int i = 0; i < 1000; ++i) text += euro;
  for (std::size_t limit : {30u, 31u, 32u, 33u, 100u}) {
    std::string head = caviar::detail::clip_text(text, limit);
    std::string tail = caviar::detail::clip_text_front(text, limit);
    EXPECT_LE(head.size(), limit);
    EXPECT_LE(tail.size(), limit);
    EXPECT_EQ(caviar::detail::valid_utf8(head), head);
    EXPECT_EQ(caviar::detail::valid_utf8(tail), tail);
    EXPECT_NE(head.find("[... 3000 bytes in all]"), std::string::npos) << head;
  }
  EXPECT_EQ(caviar::detail::valid_utf8("a\xFF" "b"), "a\xEF\xBF\xBD" "b");
}
