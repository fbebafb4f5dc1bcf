// Fuzz target: the config reader (caviar/config.h, parse_config) on any text. A bad config
// is answered by caviar::Error; anything else that escapes (another exception, a crash, a
// sanitizer's report, a hang) is a finding.
#include <cstddef>
#include <cstdint>
#include <string>

#include "caviar/config.h"
#include "caviar/error.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  try {
    caviar::Config config = caviar::parse_config(text, "/caviar-fuzz", "fuzz");
    caviar::apply_overrides(config, {.study = "", .storage = "", .trials = 7, .parallel = 2});
  } catch (const caviar::Error&) {
  }
  return 0;
}
