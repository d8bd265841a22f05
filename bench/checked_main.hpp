// The main() of the Google Benchmark programs that check what they time (micro_bench.cpp,
// gateway_bench.cpp): a benchmark that finds a wrong answer (a refused call, a signature that
// does not verify) sets a flag and skips, and the program then exits 1, so make bench-smoke
// fails instead of printing a figure for the wrong work. Unknown arguments exit 2.
#pragma once

#include <benchmark/benchmark.h>

namespace stagepass::bench {

inline int run_checked(int argc, char** argv, const bool& failed) {
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 2;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return failed ? 1 : 0;
}

}  // namespace stagepass::bench
