// Storage URLs: "memory", "sqlite:///relative.db", "sqlite:////absolute.db[?schema=v3.0.0.d]",
// "postgresql://user@host/database[?schema=v3.0.0.d]" (any libpq connection URI).
#include <fmt/core.h>

#include "caviar/error.h"
#include "caviar/storage.h"
#include "storage/postgres_storage.h"
#include "storage/sqlite_storage.h"

namespace caviar {

std::shared_ptr<Storage> open_storage(const std::string& url, OpenMode mode) {
  // Every message below shows the URL as redacted_url() gives it: never its password.
  note_secrets_of(url);
  if (url.size() > 4096)
    throw StorageError("storage", fmt::format("a URL of {} characters; a storage URL is at most 4096", url.size()));
  if (url.find('\0') != std::string::npos) throw StorageError("storage", "the URL contains a NUL character");
  if (url.empty() || url == "memory" || url == "memory://") return make_memory_storage();
  const std::string sqlite = "sqlite:///";
  if (url.rfind(sqlite, 0) == 0) {
    std::string path = url.substr(sqlite.size());
    std::string schema = "v3.2.0.a";
    if (auto q = path.find('?'); q != std::string::npos) {
      std::string query = path.substr(q + 1);
      path = path.substr(0, q);
      if (query == "schema=v3.0.0.d" || query == "schema=v3.2.0.a")
        schema = query.substr(7);
      else
        throw StorageError(redacted_url(url), fmt::format("unknown option '{}'; the one option is "
                                            "schema=v3.0.0.d or schema=v3.2.0.a", redacted_url(query)));
    }
    if (path.empty()) throw StorageError(redacted_url(url), "no file name after sqlite:///");
    return detail::make_sqlite_storage(path, schema, mode);
  }
  if (url.rfind("postgresql://", 0) == 0 || url.rfind("postgres://", 0) == 0)
    return detail::make_postgres_storage(url, mode);
  throw StorageError(redacted_url(url), "unknown storage URL; use sqlite:///file.db (relative), "
                          "sqlite:////abs/file.db, postgresql://user@host/database or memory");
}

}  // namespace caviar
