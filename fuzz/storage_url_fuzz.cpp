// Fuzz target: storage URLs, as open_storage() reads them before opening anything
// (storage/common.h, parse_storage_url) and as every message shows them, without their
// password (caviar/storage.h: redacted_url and its kin; resolve_storage_url).
#include <cstddef>
#include <cstdint>
#include <string>

#include "caviar/config.h"
#include "caviar/error.h"
#include "caviar/storage.h"
#include "fuzz/fuzz_check.h"
#include "storage/common.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string url(reinterpret_cast<const char*>(data), size);
  const std::string redacted = caviar::redacted_url(url);
  const std::string bare = caviar::url_without_password(url);
  FUZZ_CHECK(bare.size() <= url.size());
  caviar::without_secrets_of(url, "could not connect to " + url + " as " + bare + ": " + redacted);
  caviar::resolve_storage_url(url, "/caviar-fuzz");
  try {
    const auto parsed = caviar::detail::parse_storage_url(url);
    FUZZ_CHECK(parsed.kind != caviar::detail::StorageUrl::Kind::Sqlite || !parsed.sqlite_path.empty());
  } catch (const caviar::Error& e) {
    FUZZ_CHECK(e.what() != nullptr);
  }
  return 0;
}
