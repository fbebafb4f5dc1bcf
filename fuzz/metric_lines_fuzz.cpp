// Fuzz target: the readers of a trial's output (run/trial_output.h), MetricScanner on
// stdout and StderrTail on stderr. The first byte sets the size of the chunks the rest
// arrives in; whatever the chunks, the lines read must be those of the whole output read at
// once, and the documented bounds must hold.
#include <algorithm>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "fuzz/fuzz_check.h"
#include "run/trial_output.h"

namespace {

using caviar::detail::MetricLine;
using caviar::detail::MetricScanner;
using caviar::detail::StderrTail;

// A line as read, with numbers as bits so that NaN equals itself.
std::string line_text(int number, const MetricLine& line, const std::string& error) {
  auto bits = [](double v) { return std::to_string(std::bit_cast<std::uint64_t>(v)); };
  std::string out = std::to_string(number) + "|" + error + "|";
  out += line.metric ? bits(*line.metric) : "-";
  out += line.step ? bits(*line.step) : "-";
  for (const auto& [key, value] : line.values) out += "|" + key + "=" + bits(value);
  return out;
}

struct Read {
  std::vector<std::string> lines;
  std::vector<std::string> keys;
  bool more_keys = false;
  std::string tail;
};

Read read(const char* data, std::size_t size, std::size_t chunk) {
  Read r;
  MetricScanner scanner("loss", "epoch", [&](int number, const MetricLine& line, const std::string& error) {
    FUZZ_CHECK(line.values.size() <= MetricScanner::kValuesPerLine);
    FUZZ_CHECK(number == static_cast<int>(r.lines.size()) + 1);
    r.lines.push_back(line_text(number, line, error));
  });
  StderrTail tail;
  for (std::size_t at = 0; at < size; at += chunk) {
    const std::size_t n = std::min(chunk, size - at);
    scanner.feed(data + at, n);
    tail.feed(data + at, n);
  }
  scanner.finish();
  tail.finish();
  r.keys = scanner.keys_seen();
  r.more_keys = scanner.more_keys();
  r.tail = tail.text();
  FUZZ_CHECK(r.keys.size() <= MetricScanner::kKeysKept);
  FUZZ_CHECK(r.tail.size() <= StderrTail::kLimit);
  return r;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const std::size_t chunk = 1 + data[0] % 16;
  const char* text = reinterpret_cast<const char*>(data + 1);
  const Read whole = read(text, size - 1, size), chunked = read(text, size - 1, chunk);
  FUZZ_CHECK(whole.lines == chunked.lines);
  FUZZ_CHECK(whole.keys == chunked.keys && whole.more_keys == chunked.more_keys);
  FUZZ_CHECK(whole.tail == chunked.tail);
  return 0;
}
