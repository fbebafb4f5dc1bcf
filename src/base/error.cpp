#include "caviar/error.h"

#include <utility>

namespace caviar {

Error::Error(std::string where, std::string why)
    : std::runtime_error(where.empty() ? why : where + ": " + why),
      where_(std::move(where)),
      why_(std::move(why)) {}

}  // namespace caviar
