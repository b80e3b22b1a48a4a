// RP_CHECK: an assertion for invariants that must never break (money sums, state transitions).
// Always on, in every build type: a broken money invariant must stop the process rather than
// let it write a wrong ledger. Use Status for anything an input can cause.
#pragma once

#include <cstdio>
#include <cstdlib>

#define RP_CHECK(cond)                                                                    \
  do {                                                                                    \
    if (!(cond)) {                                                                        \
      std::fprintf(stderr, "%s:%d: invariant violated: %s\n", __FILE__, __LINE__, #cond); \
      std::abort();                                                                       \
    }                                                                                     \
  } while (0)
