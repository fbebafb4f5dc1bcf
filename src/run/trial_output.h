// Reading what a trial prints, in linear time and bounded memory whatever it prints: one
// pass over each chunk as it arrives, nothing kept of a line but what the protocol needs
// (docs/protocol.md, "What the trial prints"). A 100 MB line costs a pass over 100 MB and
// a few KB of memory.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace caviar::detail {

// The key=value tokens of stdout that the protocol reads: the metric, the step, and every
// other `name=number` on the line (a name is a letter or '_' then letters, digits and
// `_ . - / :`, at most 64 bytes; at most kValuesPerLine of them per line).
struct MetricLine {
  std::optional<double> metric;
  std::optional<double> step;
  std::vector<std::pair<std::string, double>> values;  // the metric's too; not the step's
};

// Splits stdout into lines and tokens (separated by spaces or commas) as bytes arrive.
// At each line's end calls on_line(line number, the metric and step found, error), where
// error is "" or why the line is malformed (a metric or step token that is not a number).
class MetricScanner {
 public:
  // The most bytes of one token kept; a metric or step token longer than this is not a number.
  static constexpr std::size_t kTokenLimit = 4096;
  static constexpr std::size_t kValuesPerLine = 64, kNameLimit = 64;
  // The first names of key=value tokens kept for a missing metric's reason.
  static constexpr std::size_t kKeysKept = 20;

  using LineHandler = std::function<void(int line_number, const MetricLine&, const std::string& error)>;
  MetricScanner(std::string metric, std::string step_key, LineHandler on_line);

  void feed(const char* data, std::size_t size);
  void finish();  // end of output: a last line without a newline counts

  // The distinct names of `name=value` tokens printed so far (any value), the first
  // kKeysKept of them in order of appearance, and whether there were more.
  const std::vector<std::string>& keys_seen() const { return keys_seen_; }
  bool more_keys() const { return more_keys_; }

 private:
  std::vector<std::string> keys_seen_;
  bool more_keys_ = false;
  std::string metric_, step_key_;
  LineHandler on_line_;
  std::string token_;         // the current token's first kTokenLimit bytes
  std::size_t token_size_ = 0;
  bool line_started_ = false;
  int line_number_ = 0;
  MetricLine line_;
  std::string error_;

  void end_token();
  void end_line();
};

// The last lines of stderr, for failure reasons: at most kLines lines of at most
// kLineLimit bytes each (a longer line keeps its start), valid UTF-8, kLimit bytes in all.
class StderrTail {
 public:
  static constexpr std::size_t kLines = 10, kLineLimit = 400, kLimit = 4096;

  void feed(const char* data, std::size_t size);
  void finish();
  std::string text() const;  // the lines, joined by newlines

 private:
  std::deque<std::string> lines_;
  std::string current_;
  std::size_t current_size_ = 0;
  char last_ = 0;  // the line's last byte so far
  bool line_started_ = false;

  void end_line();
};

}  // namespace caviar::detail
