#include "simulator/stats/rank_test.h"

#include <algorithm>
#include <cmath>
#include <cstdint>

namespace rp::sim {
namespace {

constexpr double kExactArrangementsMax = 200'000;

double U(const std::vector<double>& a, const std::vector<double>& b) {
  double u = 0;
  for (double x : a) {
    for (double y : b) u += x > y ? 1.0 : x == y ? 0.5 : 0.0;
  }
  return u;
}

double Choose(size_t n, size_t k) {
  double c = 1;
  for (size_t i = 1; i <= k; ++i) c = c * static_cast<double>(n - k + i) / static_cast<double>(i);
  return c;
}

// Every way of drawing |a| of the pooled figures as "a": the share of draws whose U is at least
// the observed one. Bounded by kExactArrangementsMax draws (the caller checks).
double ExactP(const std::vector<double>& a, const std::vector<double>& b, double observed) {
  std::vector<double> pool = a;
  pool.insert(pool.end(), b.begin(), b.end());
  const size_t n = a.size(), total = pool.size();
  std::vector<size_t> pick(n);
  for (size_t i = 0; i < n; ++i) pick[i] = i;
  int64_t draws = 0, at_least = 0;
  for (;;) {
    std::vector<double> x, y;
    size_t next = 0;
    for (size_t i = 0; i < total; ++i) {
      if (next < n && pick[next] == i) {
        x.push_back(pool[i]);
        ++next;
      } else {
        y.push_back(pool[i]);
      }
    }
    ++draws;
    if (U(x, y) >= observed - 1e-9) ++at_least;
    // The next combination in lexicographic order.
    size_t i = n;
    while (i > 0 && pick[i - 1] == total - n + i - 1) --i;
    if (i == 0) break;
    ++pick[i - 1];
    for (size_t j = i; j < n; ++j) pick[j] = pick[j - 1] + 1;
  }
  return static_cast<double>(at_least) / static_cast<double>(draws);
}

double NormalP(const std::vector<double>& a, const std::vector<double>& b, double u) {
  const double n = static_cast<double>(a.size()), m = static_cast<double>(b.size());
  std::vector<double> pool = a;
  pool.insert(pool.end(), b.begin(), b.end());
  double ties = 0;  // Sum of t^3 - t over groups of equal figures.
  for (size_t i = 0; i < pool.size(); ++i) {
    double t = 0;
    bool first = true;
    for (size_t j = 0; j < pool.size(); ++j) {
      if (pool[j] != pool[i]) continue;
      if (j < i) first = false;
      ++t;
    }
    if (first) ties += t * t * t - t;
  }
  const double total = n + m;
  const double variance = n * m / 12.0 * ((total + 1) - ties / (total * (total - 1)));
  if (variance <= 0) return 1;
  const double z = (u - n * m / 2.0 - 0.5) / std::sqrt(variance);
  return 0.5 * std::erfc(z / std::sqrt(2.0));
}

}  // namespace

RankTest MannWhitneyGreater(const std::vector<double>& a, const std::vector<double>& b) {
  RankTest t;
  if (a.empty() || b.empty()) return t;
  t.u = U(a, b);
  t.exact = Choose(a.size() + b.size(), a.size()) <= kExactArrangementsMax;
  t.p_value = t.exact ? ExactP(a, b, t.u) : NormalP(a, b, t.u);
  return t;
}

double MedianOf(std::vector<double> v) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  const size_t n = v.size();
  return n % 2 == 1 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

double SmallestPValue(size_t n, size_t m) {
  if (n == 0 || m == 0) return 1;
  return 1.0 / Choose(n + m, n);
}

}  // namespace rp::sim
