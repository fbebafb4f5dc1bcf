// Fuzz target: what the process reaper reads from caviar's pipe (run/process_reaper.h),
// in chunks of the size the first byte sets. Every group listed must be one that a
// well-formed "+<pgid>" line named.
#include <algorithm>
#include <cstddef>
#include <cstdint>

#include "fuzz/fuzz_check.h"
#include "run/process_reaper.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  static caviar::detail::ReaperGroups groups;
  groups = caviar::detail::ReaperGroups();
  const std::size_t chunk = 1 + data[0] % 32;
  const char* text = reinterpret_cast<const char*>(data + 1);
  for (std::size_t at = 0; at + 1 < size; at += chunk) groups.feed(text + at, std::min(chunk, size - 1 - at));
  FUZZ_CHECK(groups.size() >= 0 && groups.size() <= caviar::detail::ReaperGroups::kMaxGroups);
  for (pid_t pgid : groups) FUZZ_CHECK(pgid > 1 && pgid <= caviar::detail::ReaperGroups::kMaxPid);
  return 0;
}
