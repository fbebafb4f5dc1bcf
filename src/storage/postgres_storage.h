#pragma once

#include <memory>
#include <string>

#include "caviar/storage.h"

namespace caviar::detail {

// url: a libpq connection URI, "postgresql://user:password@host:port/database?options",
// where one more option, schema=v3.0.0.d (or the default v3.2.0.a), is the Optuna schema
// revision of the tables if the database has none yet (with OpenMode::Create; Existing
// refuses a database without them).
std::shared_ptr<Storage> make_postgres_storage(const std::string& url, OpenMode mode = OpenMode::Create);

}  // namespace caviar::detail
