#include "base/bounded_text.h"

#include <algorithm>

#include <fmt/core.h>
#include <nlohmann/json.hpp>

namespace caviar::detail {
namespace {

bool continuation(char c) { return (static_cast<unsigned char>(c) & 0xC0) == 0x80; }

// Drops an incomplete character at the end of valid UTF-8 that was cut.
void trim_cut_end(std::string& s) {
  std::size_t i = s.size();
  while (i > 0 && continuation(s[i - 1])) --i;
  if (i == 0) return;
  const auto lead = static_cast<unsigned char>(s[i - 1]);
  const std::size_t length = lead >= 0xF0 ? 4 : lead >= 0xE0 ? 3 : lead >= 0xC0 ? 2 : 1;
  if (s.size() - (i - 1) < length) s.resize(i - 1);
}

}  // namespace

std::string valid_utf8(std::string_view text) {
  // nlohmann's serializer checks UTF-8 and, told to, replaces what is invalid; parsing
  // its output back gives the string.
  const std::string quoted =
      nlohmann::json(std::string(text)).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  return nlohmann::json::parse(quoted).get<std::string>();
}

std::string clip_text(std::string_view text, std::size_t limit, std::size_t total) {
  total = std::max(total, text.size());
  if (total <= limit) {
    std::string out = valid_utf8(text);
    if (out.size() <= limit) return out;
  }
  const std::string marker = fmt::format(" [... {} bytes in all]", total);
  const std::size_t keep = limit > marker.size() ? limit - marker.size() : 0;
  std::string out = valid_utf8(text.substr(0, std::min(keep, text.size())));
  if (out.size() > keep) out.resize(keep);  // replacement characters made it longer
  trim_cut_end(out);
  return out + marker;
}

std::string clip_text_front(std::string_view text, std::size_t limit) {
  if (text.size() <= limit) {
    std::string out = valid_utf8(text);
    if (out.size() <= limit) return out;
  }
  const std::string marker = fmt::format("[... {} bytes in all] ", text.size());
  const std::size_t keep = limit > marker.size() ? limit - marker.size() : 0;
  std::size_t from = text.size() > keep ? text.size() - keep : 0;
  while (from < text.size() && continuation(text[from])) ++from;
  std::string out = valid_utf8(text.substr(from));
  if (out.size() > keep) {  // replacement characters made it longer
    std::size_t cut = out.size() - keep;
    while (cut < out.size() && continuation(out[cut])) ++cut;
    out.erase(0, cut);
  }
  return marker + out;
}

}  // namespace caviar::detail
