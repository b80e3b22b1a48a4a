#include "simulator/stats/histogram.h"

#include <algorithm>
#include <bit>
#include <cmath>

namespace rp::sim {
namespace {
constexpr int kSubBits = 8;  // 256 exact values, then 128 buckets per power of two.
constexpr int64_t kHalf = int64_t{1} << (kSubBits - 1);
}  // namespace

int LatencyHistogram::BucketOf(int64_t v) {
  if (v < 0) v = 0;
  const int width = std::bit_width(static_cast<uint64_t>(v));
  const int shift = std::max(0, width - kSubBits);
  return static_cast<int>(kHalf * shift + (v >> shift));
}

int64_t LatencyHistogram::BucketLow(int bucket) {
  if (bucket < 2 * kHalf) return bucket;
  const int shift = static_cast<int>((bucket - kHalf) / kHalf);
  const int64_t sub = bucket - kHalf * shift;  // In [128, 255].
  return sub << shift;
}

int64_t LatencyHistogram::BucketHigh(int bucket) {
  if (bucket < 2 * kHalf) return bucket + 1;
  const int shift = static_cast<int>((bucket - kHalf) / kHalf);
  return BucketLow(bucket) + (int64_t{1} << shift);
}

void LatencyHistogram::Record(int64_t value_us) {
  value_us = std::max<int64_t>(0, value_us);  // A clock step back is not a negative latency.
  const int b = BucketOf(value_us);
  if (static_cast<size_t>(b) >= counts_.size()) counts_.resize(static_cast<size_t>(b) + 1, 0);
  ++counts_[static_cast<size_t>(b)];
  ++count_;
  max_us_ = std::max(max_us_, value_us);
  min_us_ = std::min(min_us_, value_us);
  sum_us_ += value_us;
}

void LatencyHistogram::Merge(const LatencyHistogram& other) {
  if (other.counts_.size() > counts_.size()) counts_.resize(other.counts_.size(), 0);
  for (size_t i = 0; i < other.counts_.size(); ++i) counts_[i] += other.counts_[i];
  count_ += other.count_;
  max_us_ = std::max(max_us_, other.max_us_);
  min_us_ = std::min(min_us_, other.min_us_);
  sum_us_ += other.sum_us_;
}

int64_t LatencyHistogram::ValueAtQuantile(double q) const {
  if (count_ == 0) return 0;
  const int64_t rank =
      std::max<int64_t>(1, static_cast<int64_t>(std::ceil(std::clamp(q, 0.0, 1.0) * count_)));
  int64_t seen = 0;
  for (size_t i = 0; i < counts_.size(); ++i) {
    seen += counts_[i];
    if (seen >= rank) {
      const int b = static_cast<int>(i);
      const int64_t mid = (BucketLow(b) + BucketHigh(b) - 1) / 2;
      return std::min(mid, max_us_);
    }
  }
  return max_us_;
}

}  // namespace rp::sim
