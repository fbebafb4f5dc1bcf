// The JavaScript that `caviar report` writes into every report (report_assets.cpp).
#pragma once

#include <string_view>

namespace caviar::detail {

// plotly.js (plotly.js-dist-min, minified, MIT licence; its banner names the version).
std::string_view plotly_js();
// web/report.js: draws the report's plots from the data embedded in the page.
std::string_view report_js();

}  // namespace caviar::detail
