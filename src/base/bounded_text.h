// Text that came from outside caviar (a trial's output, an exception's message) made safe
// to store: valid UTF-8 and at most so many bytes, however much there was.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace caviar::detail {

// The most bytes of a reason (`caviar:reason`) or a stderr tail that caviar stores.
inline constexpr std::size_t kReasonLimit = 8192;

// `text` with every byte that is not part of valid UTF-8 replaced by U+FFFD.
std::string valid_utf8(std::string_view text);

// `text` as valid UTF-8 of at most `limit` bytes: if longer, its head (cut at a character
// boundary) and " [... N bytes in all]". `total`: the size of the whole when `text` is
// only the start of it (what was kept of a longer line).
std::string clip_text(std::string_view text, std::size_t limit = kReasonLimit, std::size_t total = 0);

// The same, keeping the end instead: "[... N bytes in all] " and the tail.
std::string clip_text_front(std::string_view text, std::size_t limit);

}  // namespace caviar::detail
