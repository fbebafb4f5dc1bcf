// The files of caviar's pages, built into the library (web_assets.cpp): the report
// (`caviar report`) and the dashboard (`caviar dashboard`) serve nothing else.
#pragma once

#include <string_view>

namespace caviar::detail {

// plotly.js (plotly.js-dist-min, minified, MIT licence; its banner names the version).
std::string_view plotly_js();
// web/report.js: draws the report's plots from the report's data (also on the dashboard).
std::string_view report_js();
// web/dashboard.js, web/dashboard_worker.js and web/dashboard.css: the dashboard's page
// app, the shared worker that holds a browser's one event stream, and the pages' style.
std::string_view dashboard_js();
std::string_view dashboard_worker_js();
std::string_view dashboard_css();

}  // namespace caviar::detail
