// The JavaScript built into the report (see report.h): plotly.js, as installed from npm
// into web/node_modules (pinned by web/package-lock.json), and the report's own
// web/report.js. The assembler's .incbin copies each file into .rodata as it is, so the
// build compiles no multi-megabyte array. CMakeLists.txt passes the two paths and rebuilds
// this file when either changes.
#include "analysis/report_assets.h"

#ifndef CAVIAR_PLOTLY_JS
#error "CAVIAR_PLOTLY_JS (the path of plotly.min.js) is set by CMakeLists.txt"
#endif
#ifndef CAVIAR_REPORT_JS
#error "CAVIAR_REPORT_JS (the path of web/report.js) is set by CMakeLists.txt"
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
      ".popsection\n")

CAVIAR_EMBED(caviar_plotly_js, CAVIAR_PLOTLY_JS);
CAVIAR_EMBED(caviar_report_js, CAVIAR_REPORT_JS);

#define CAVIAR_HIDDEN __attribute__((visibility("hidden")))
extern "C" {
extern const char caviar_plotly_js_begin[] CAVIAR_HIDDEN, caviar_plotly_js_end[] CAVIAR_HIDDEN;
extern const char caviar_report_js_begin[] CAVIAR_HIDDEN, caviar_report_js_end[] CAVIAR_HIDDEN;
}

namespace caviar::detail {

std::string_view plotly_js() {
  return {caviar_plotly_js_begin, static_cast<std::size_t>(caviar_plotly_js_end - caviar_plotly_js_begin)};
}

std::string_view report_js() {
  return {caviar_report_js_begin, static_cast<std::size_t>(caviar_report_js_end - caviar_report_js_begin)};
}

}  // namespace caviar::detail
