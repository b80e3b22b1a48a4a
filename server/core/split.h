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

// The generator share draws use: SplitMix64 (Steele, Lea and Flood, "Fast splittable
// pseudorandom number generators", 2014), 8 bytes of state. Every write job seeds one of its
// own (so a run with a fixed seed and one writer repeats exactly); std::mt19937_64 initialises
// 2.5 KB of state per seeding, which a profile showed at ~5% of the ledger writer's time.
// Satisfies UniformRandomBitGenerator. Not thread-safe (a value; one per job).
class ShareRng {
 public:
  using result_type = uint64_t;
  explicit ShareRng(uint64_t seed) : state_(seed) {}
  static constexpr result_type min() { return 0; }
  static constexpr result_type max() { return UINT64_MAX; }
  result_type operator()() {
    uint64_t z = (state_ += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
  }

 private:
  uint64_t state_;
};

int64_t DrawShare(ledger::SplitKind split, int64_t remaining_cents, int64_t remaining_count,
                  int64_t cap_cents, ShareRng& rng);

}  // namespace rp::core
