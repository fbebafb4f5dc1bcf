#pragma once

#include <memory>
#include <string>

#include "caviar/storage.h"

namespace caviar::detail {

// url: a libpq connection URI, "postgresql://user:password@host:port/database?options".
std::shared_ptr<Storage> make_postgres_storage(const std::string& url);

}  // namespace caviar::detail
