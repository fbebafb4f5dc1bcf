// Fuzz target: Optuna's distribution_json as a storage reads it (storage/optuna_format.h),
// then what caviar does with the parameter: shows stored values through it, writes it back
// and adds it to a search space. A distribution caviar cannot read is a caviar::Error.
#include <cmath>
#include <cstddef>
#include <cstdint>

#include "caviar/error.h"
#include "caviar/space.h"
#include "storage/optuna_format.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const caviar::json d = caviar::json::parse(data, data + size, nullptr, false);
  if (d.is_discarded()) return 0;  // not JSON: the storage never gets that far
  try {
    const caviar::Parameter p = caviar::detail::parameter_from_optuna("x", d);
    caviar::detail::optuna_distribution(p);
    for (double v : {p.low, p.high, (p.low + p.high) / 2, 0.0, 1.0, -1.0, 1e300, std::nan("")}) {
      p.external(v);
      p.text(v);
    }
    caviar::SearchSpace space;
    space.add(p);
    const caviar::Parameter& added = space.at("x");
    for (double u : {0.0, 0.3, 1.0}) added.external(added.from_unit(u));
    added.cardinality();
  } catch (const caviar::Error&) {
  }
  return 0;
}
