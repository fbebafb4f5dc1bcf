#include "base/format.h"

#include <algorithm>
#include <charconv>
#include <ctime>
#include <vector>

#include <fmt/core.h>

namespace caviar::detail {

std::string shortest(double value) {
  char buffer[64];
  auto result = std::to_chars(buffer, buffer + sizeof buffer, value);
  return std::string(buffer, result.ptr);
}

std::size_t edit_distance(const std::string& a, const std::string& b) {
  // Optimal string alignment: insertions, deletions, substitutions and swaps of neighbours
  // ("tnue" is one step from "tune").
  std::vector<std::vector<std::size_t>> d(a.size() + 1, std::vector<std::size_t>(b.size() + 1));
  for (std::size_t i = 0; i <= a.size(); ++i) d[i][0] = i;
  for (std::size_t j = 0; j <= b.size(); ++j) d[0][j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i)
    for (std::size_t j = 1; j <= b.size(); ++j) {
      d[i][j] = std::min({d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + (a[i - 1] != b[j - 1])});
      if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1])
        d[i][j] = std::min(d[i][j], d[i - 2][j - 2] + 1);
    }
  return d[a.size()][b.size()];
}

std::string format_time(std::chrono::system_clock::time_point t, bool utc) {
  auto micros = std::chrono::duration_cast<std::chrono::microseconds>(t.time_since_epoch()).count();
  std::time_t seconds = static_cast<std::time_t>(micros / 1000000);
  std::tm local{};
  if (utc) gmtime_r(&seconds, &local);
  else localtime_r(&seconds, &local);
  char buffer[32];
  std::strftime(buffer, sizeof buffer, "%Y-%m-%d %H:%M:%S", &local);
  return fmt::format("{}.{:06d}", buffer, static_cast<int>(micros % 1000000));
}

std::optional<std::chrono::system_clock::time_point> parse_time(const std::string& text, bool utc) {
  std::tm local{};
  const char* rest = strptime(text.c_str(), "%Y-%m-%d %H:%M:%S", &local);
  if (!rest) return std::nullopt;
  local.tm_isdst = -1;
  std::time_t seconds = utc ? timegm(&local) : std::mktime(&local);
  long micros = 0;
  if (*rest == '.') {
    std::string digits = std::string(rest + 1).substr(0, 6);
    while (digits.size() < 6) digits += '0';
    micros = std::strtol(digits.c_str(), nullptr, 10);
  }
  return std::chrono::system_clock::from_time_t(seconds) + std::chrono::microseconds(micros);
}

}  // namespace caviar::detail
