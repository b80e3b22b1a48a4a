// Share allocation: how much the next claimer of a packet receives.
//
// Random split is the double-mean method: each claim draws uniformly from [1, 2a - 1] where a is
// the average of what is left, so the expected share is a. When the per-share cap binds
// (2a - 1 > cap) the interval narrows symmetrically to [2a - cap, cap], keeping the expectation
// at a: a one-sided cut would shift money from early to late claimers (measured: +15% for the
// last positions when total is half of count * cap). It is then clamped so every later share can
// still be at least 1 cent and at most the cap; the last claimer takes the rest. In expectation
// every position receives total/count, so early and late claimers are treated alike. Even split
// gives total/count to everyone (validated divisible at send time).
//
// Preconditions (checked, abort on violation): remaining_count >= 1,
// remaining_count <= remaining_cents <= remaining_count * cap_cents.
// Postcondition: 1 <= share <= cap_cents and the rest stays allocatable.
#pragma once

#include <cstdint>
#include <random>

#include "server/ledger/records.h"

namespace rp::core {

int64_t DrawShare(ledger::SplitKind split, int64_t remaining_cents, int64_t remaining_count,
                  int64_t cap_cents, std::mt19937_64& rng);

}  // namespace rp::core
