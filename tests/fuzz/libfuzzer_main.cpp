// With libFuzzer the engine owns main(); findings of our own abort like any crash.
#include <cstdio>
#include <cstdlib>

#include "tests/fuzz/fuzz_target.h"

namespace rp::fuzz {
[[noreturn]] void Fail(const char* what) {
  std::fprintf(stderr, "fuzz target finding: %s\n", what);
  std::abort();
}
}  // namespace rp::fuzz
