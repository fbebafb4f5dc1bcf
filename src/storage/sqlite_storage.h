#pragma once

#include <memory>
#include <string>

#include "caviar/storage.h"

namespace caviar::detail {

// Thrown inside the SQLite storage when the database is busy; the transaction is retried.
struct SqliteBusy {};

// schema: "v3.2.0.a" (default) or "v3.0.0.d"; used only when the file is created (never
// with OpenMode::Existing).
std::shared_ptr<Storage> make_sqlite_storage(const std::string& path, const std::string& schema,
                                             OpenMode mode = OpenMode::Create);

}  // namespace caviar::detail
