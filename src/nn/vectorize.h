// CAVIAR_NN_VECTORIZE marks a hot element-wise loop for two builds, AVX2+FMA and the
// baseline, picked once at load time by the CPU (GCC's target_clones). The library itself
// is compiled for the baseline x86-64, so it runs anywhere; on AVX2 machines these loops
// are twice as wide. Matrix products need no such help: OpenBLAS picks its kernel at run
// time.
#pragma once

// Not under ThreadSanitizer: GCC runs the clones' resolver while the program is being
// relocated, before TSan's runtime is set up, and the instrumented resolver crashes.
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__) && !defined(__SANITIZE_THREAD__)
#define CAVIAR_NN_VECTORIZE __attribute__((target_clones("arch=x86-64-v3", "default")))
#else
#define CAVIAR_NN_VECTORIZE
#endif
