// Storage URLs: "memory", "sqlite:///relative.db", "sqlite:////absolute.db[?schema=v3.0.0.d]",
// "postgresql://user@host/database[?schema=v3.0.0.d]" (any libpq connection URI).
#include <fmt/core.h>

#include "caviar/error.h"
#include "caviar/storage.h"
#include "storage/common.h"
#include "storage/postgres_storage.h"
#include "storage/sqlite_storage.h"

namespace caviar {

namespace detail {

StorageUrl parse_storage_url(const std::string& url) {
  if (url.size() > 4096)
    throw StorageError("storage", fmt::format("a URL of {} characters; a storage URL is at most 4096", url.size()));
  if (url.find('\0') != std::string::npos) throw StorageError("storage", "the URL contains a NUL character");
  StorageUrl parsed;
  if (is_memory_url(url)) return parsed;
  const std::string sqlite = "sqlite:///";
  if (url.rfind(sqlite, 0) == 0) {
    parsed.kind = StorageUrl::Kind::Sqlite;
    parsed.sqlite_path = url.substr(sqlite.size());
    if (auto q = parsed.sqlite_path.find('?'); q != std::string::npos) {
      std::string query = parsed.sqlite_path.substr(q + 1);
      parsed.sqlite_path.resize(q);
      if (query == "schema=v3.0.0.d" || query == "schema=v3.2.0.a")
        parsed.schema = query.substr(7);
      else
        throw StorageError(redacted_url(url), fmt::format("unknown option '{}'; the one option is "
                                            "schema=v3.0.0.d or schema=v3.2.0.a", redacted_url(query)));
    }
    if (parsed.sqlite_path.empty()) throw StorageError(redacted_url(url), "no file name after sqlite:///");
    return parsed;
  }
  if (url.rfind("postgresql://", 0) == 0 || url.rfind("postgres://", 0) == 0) {
    parsed.kind = StorageUrl::Kind::Postgres;
    return parsed;
  }
  throw StorageError(redacted_url(url), "unknown storage URL; use sqlite:///file.db (relative), "
                          "sqlite:////abs/file.db, postgresql://user@host/database or memory");
}

}  // namespace detail

bool is_memory_url(const std::string& url) { return url.empty() || url == "memory" || url == "memory://"; }

std::shared_ptr<Storage> open_storage(const std::string& url, OpenMode mode) {
  // Every message shows the URL as redacted_url() gives it: never its password.
  note_secrets_of(url);
  const detail::StorageUrl parsed = detail::parse_storage_url(url);
  switch (parsed.kind) {
    case detail::StorageUrl::Kind::Memory: return make_memory_storage();
    case detail::StorageUrl::Kind::Sqlite: return detail::make_sqlite_storage(parsed.sqlite_path, parsed.schema, mode);
    case detail::StorageUrl::Kind::Postgres: return detail::make_postgres_storage(url, mode);
  }
  return nullptr;
}

}  // namespace caviar
