// The files built into the library (see web_assets.h): plotly.js, as installed from npm
// into web/node_modules (pinned by web/package-lock.json), and caviar's own files in web/.
// The assembler's .incbin copies each file into .rodata as it is, so the build compiles no
// multi-megabyte array. CMakeLists.txt passes the paths (CAVIAR_WEB_DIR, CAVIAR_PLOTLY_JS)
// and rebuilds this file when one of them changes.
#include "analysis/web_assets.h"

#if !defined(CAVIAR_PLOTLY_JS) || !defined(CAVIAR_WEB_DIR)
#error "CAVIAR_PLOTLY_JS (the path of plotly.min.js) and CAVIAR_WEB_DIR are set by CMakeLists.txt"
#endif

// Each file is followed by a NUL byte, so that its start is also a C string.
#define CAVIAR_EMBED(symbol, path)                       \
  asm(".pushsection .rodata\n"                           \
      ".balign 16\n"                                     \
      ".globl " #symbol "_begin\n"                       \
      ".hidden " #symbol "_begin\n"                      \
      #symbol "_begin:\n"                                \
      ".incbin \"" path "\"\n"                           \
      ".globl " #symbol "_end\n"                         \
      ".hidden " #symbol "_end\n"                        \
      #symbol "_end:\n"                                  \
      ".byte 0\n"                                        \
      ".popsection\n");                                  \
  extern "C" const char symbol##_begin[] __attribute__((visibility("hidden"))); \
  extern "C" const char symbol##_end[] __attribute__((visibility("hidden")));

CAVIAR_EMBED(caviar_plotly_js, CAVIAR_PLOTLY_JS)
CAVIAR_EMBED(caviar_report_js, CAVIAR_WEB_DIR "/report.js")
CAVIAR_EMBED(caviar_dashboard_js, CAVIAR_WEB_DIR "/dashboard.js")
CAVIAR_EMBED(caviar_dashboard_worker_js, CAVIAR_WEB_DIR "/dashboard_worker.js")
CAVIAR_EMBED(caviar_dashboard_css, CAVIAR_WEB_DIR "/dashboard.css")

namespace caviar::detail {
namespace {
std::string_view between(const char* begin, const char* end) {
  return {begin, static_cast<std::size_t>(end - begin)};
}
}  // namespace

std::string_view plotly_js() { return between(caviar_plotly_js_begin, caviar_plotly_js_end); }
std::string_view report_js() { return between(caviar_report_js_begin, caviar_report_js_end); }
std::string_view dashboard_js() { return between(caviar_dashboard_js_begin, caviar_dashboard_js_end); }
std::string_view dashboard_worker_js() {
  return between(caviar_dashboard_worker_js_begin, caviar_dashboard_worker_js_end);
}
std::string_view dashboard_css() { return between(caviar_dashboard_css_begin, caviar_dashboard_css_end); }

}  // namespace caviar::detail
