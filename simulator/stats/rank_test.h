// The Mann-Whitney U test (Wilcoxon rank-sum), as Google Benchmark's compare.py uses to tell a
// real difference between two sets of runs from noise, without assuming the figures are normally
// distributed. Small samples (C(n+m, n) <= 200,000 arrangements) get the exact permutation
// p-value, ties included; larger ones the normal approximation with tie correction and a
// continuity correction. Pure functions; thread-safe.
#pragma once

#include <cstddef>
#include <vector>

namespace rp::sim {

struct RankTest {
  double u = 0;        // Pairs (a, b) with a > b, ties counting one half.
  double p_value = 1;  // One-sided: P(U >= u) were a and b from one distribution.
  bool exact = false;  // Whether p_value is the exact permutation probability.
};

// Is `a` larger than `b`? p_value = 1 when either sample is empty.
RankTest MannWhitneyGreater(const std::vector<double>& a, const std::vector<double>& b);

// The median (the mean of the middle two for an even count); 0 for none. The one median of
// compare, regress, the cost figures and the ceiling.
double MedianOf(std::vector<double> v);

// The smallest one-sided p-value samples of these sizes can reach (1 / C(n+m, n)): below the
// significance level asked for, a test of that size cannot say anything.
double SmallestPValue(std::size_t n, std::size_t m);

}  // namespace rp::sim
