// LatencyHistogram: a log-linear (HDR-style) histogram of microsecond values. Values below 256 are
// exact; above, each power of two is split into 128 buckets, so a reported percentile is within
// 0.4% of the true value (half a bucket of width 1/128 of its lower bound). Memory grows with the
// largest value seen (~3k counters for 1000 s). Recording is O(1). Not thread-safe: one owner.
#pragma once

#include <cstdint>
#include <vector>

namespace rp::sim {

class LatencyHistogram {
 public:
  void Record(int64_t value_us);
  void Merge(const LatencyHistogram& other);
  int64_t count() const { return count_; }
  int64_t max_us() const { return max_us_; }
  int64_t min_us() const { return count_ == 0 ? 0 : min_us_; }  // Exact, 0 when empty.
  double mean_us() const {  // Exact (from the sum), 0 when empty.
    return count_ == 0 ? 0.0 : static_cast<double>(sum_us_) / static_cast<double>(count_);
  }
  // The value at quantile q in [0, 1] (0 when empty): the midpoint of the bucket holding the
  // ceil(q * count)-th smallest value, clamped to the largest value recorded.
  int64_t ValueAtQuantile(double q) const;

  // Bucket math, public for tests.
  static int BucketOf(int64_t value_us);
  static int64_t BucketLow(int bucket);
  static int64_t BucketHigh(int bucket);  // Exclusive.

 private:
  std::vector<int64_t> counts_;
  int64_t count_ = 0;
  int64_t max_us_ = 0;
  int64_t min_us_ = INT64_MAX;
  int64_t sum_us_ = 0;  // 2^63 us is 292,000 years of latency: no overflow.
};

}  // namespace rp::sim
