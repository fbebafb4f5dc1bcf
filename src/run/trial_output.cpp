#include "run/trial_output.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <cstring>

#include <fmt/core.h>

#include "base/bounded_text.h"

namespace caviar::detail {
namespace {

bool name_char(char c, bool first) {
  const bool alpha = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
  return first ? alpha : alpha || (c >= '0' && c <= '9') || c == '.' || c == '-' || c == '/' || c == ':';
}

// A name as the protocol reads it (see MetricLine).
bool valid_name(const std::string& key) {
  if (key.empty() || key.size() > MetricScanner::kNameLimit) return false;
  for (std::size_t i = 0; i < key.size(); ++i)
    if (!name_char(key[i], i == 0)) return false;
  return true;
}

bool separator(char c) {
  return c == ' ' || c == ',' || c == '\t' || c == '\r' || c == '\v' || c == '\f';
}

}  // namespace

MetricScanner::MetricScanner(std::string metric, std::string step_key, LineHandler on_line)
    : metric_(std::move(metric)), step_key_(std::move(step_key)), on_line_(std::move(on_line)) {}

void MetricScanner::feed(const char* data, std::size_t size) {
  for (std::size_t i = 0; i < size; ++i) {
    const char c = data[i];
    if (c == '\n') {
      end_token();
      end_line();
      continue;
    }
    line_started_ = true;
    if (separator(c)) {
      end_token();
      continue;
    }
    // Within a token: take the run of token bytes up to the next separator at once.
    std::size_t j = i;
    while (j < size && data[j] != '\n' && !separator(data[j])) ++j;
    const std::size_t room = kTokenLimit - std::min(kTokenLimit, token_size_);
    token_.append(data + i, std::min(room, j - i));
    token_size_ += j - i;
    i = j - 1;
  }
}

void MetricScanner::finish() {
  end_token();
  if (line_started_) end_line();
}

void MetricScanner::end_token() {
  if (token_size_ == 0) return;
  const std::size_t eq = token_.find('=');
  if (eq != std::string::npos && error_.empty()) {
    const std::string key = token_.substr(0, eq);
    const std::string text = token_.substr(eq + 1);
    char* end = nullptr;
    const double v = std::strtod(text.c_str(), &end);
    const bool number = token_size_ <= kTokenLimit && !text.empty() && *end == '\0';
    if (key == metric_ || key == step_key_) {
      if (!number) {
        error_ = fmt::format("'{}' is not a number", clip_text(token_, 120, token_size_));
      } else if (key == step_key_ && key != metric_ &&
                 !(std::isfinite(v) && v == std::floor(v) && v >= -0x1p63 && v < 0x1p63)) {
        // A step numbers a report: a whole number that an int64 holds (not nan, 1.5, 1e300).
        error_ = fmt::format("'{}' is not a whole number of steps", clip_text(token_, 120, token_size_));
      } else {
        (key == metric_ ? line_.metric : line_.step) = v;
      }
    }
    if (valid_name(key)) {
      if (number && key != step_key_ && line_.values.size() < kValuesPerLine) line_.values.emplace_back(key, v);
      if (std::find(keys_seen_.begin(), keys_seen_.end(), key) == keys_seen_.end()) {
        if (keys_seen_.size() < kKeysKept) keys_seen_.push_back(key);
        else more_keys_ = true;
      }
    }
  }
  token_.clear();
  token_size_ = 0;
}

void MetricScanner::end_line() {
  ++line_number_;
  on_line_(line_number_, line_, error_);
  line_ = MetricLine{};
  error_.clear();
  line_started_ = false;
}

void StderrTail::feed(const char* data, std::size_t size) {
  std::size_t i = 0;
  while (i < size) {
    const char* nl = static_cast<const char*>(std::memchr(data + i, '\n', size - i));
    const std::size_t end = nl ? static_cast<std::size_t>(nl - data) : size;
    const std::size_t room = kLineLimit - std::min(kLineLimit, current_size_);
    current_.append(data + i, std::min(room, end - i));
    current_size_ += end - i;
    if (end > i) last_ = data[end - 1];
    line_started_ = true;
    if (!nl) break;
    end_line();
    i = end + 1;
  }
}

void StderrTail::finish() {
  if (line_started_) end_line();
}

void StderrTail::end_line() {
  if (current_size_ > 0 && last_ == '\r') {  // a CRLF line end
    if (current_.size() == current_size_) current_.pop_back();
    --current_size_;
  }
  std::string line = clip_text(current_, kLineLimit, current_size_);
  lines_.push_back(std::move(line));
  if (lines_.size() > kLines) lines_.pop_front();
  current_.clear();
  current_size_ = 0;
  last_ = 0;
  line_started_ = false;
}

std::string StderrTail::text() const {
  std::string out;
  for (const auto& l : lines_) out += (out.empty() ? "" : "\n") + l;
  return clip_text_front(out, kLimit);
}

}  // namespace caviar::detail
