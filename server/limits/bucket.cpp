#include "server/limits/bucket.h"

#include <algorithm>

#include "common/check.h"

namespace rp::limits {
namespace {
int64_t CeilDiv(int64_t a, int64_t b) {
  return (a + b - 1) / b;
}
}  // namespace

TokenBucket::TokenBucket(const LimitRule& rule, int64_t now_ms)
    : behavior_(rule.behavior),
      qps_(rule.qps),
      burst_(std::max<int64_t>(1, rule.burst > 0 ? rule.burst : rule.qps)),
      warm_up_ms_(rule.warm_up_ms),
      queue_us_max_(rule.queue_ms_max * 1000),
      refilled_ms_(now_ms),
      warm_since_ms_(now_ms),
      last_take_ms_(now_ms),
      next_slot_us_(now_ms * 1000) {
  RP_CHECK(qps_ > 0 && warm_up_ms_ > 0);
  tokens_milli_ = CapacityMilli(now_ms);
}

int64_t TokenBucket::RateQps(int64_t now_ms) const {
  if (behavior_ != Behavior::kWarmUp) return qps_;
  const int64_t cold = std::max<int64_t>(1, qps_ / 3);
  const int64_t warmed_ms = std::clamp<int64_t>(now_ms - warm_since_ms_, 0, warm_up_ms_);
  // cold + (qps - cold) * warmed / warm_up, in 128-bit-free integer steps (qps <= 1e7).
  return cold + (qps_ - cold) * warmed_ms / warm_up_ms_;
}

int64_t TokenBucket::CapacityMilli(int64_t now_ms) const {
  // During warm-up the capacity shrinks with the rate, so a cold key cannot burst a full
  // bucket's worth either.
  const int64_t burst = std::max<int64_t>(1, burst_ * RateQps(now_ms) / qps_);
  return burst * 1000;
}

void TokenBucket::Refill(int64_t now_ms) {
  if (now_ms <= refilled_ms_) return;  // A clock that stepped back refills nothing.
  const int64_t cap = CapacityMilli(now_ms);
  const int64_t elapsed_ms = now_ms - refilled_ms_;
  // elapsed * rate can only overflow after ~29 years at the maximum rate: clamp first.
  const int64_t gained = std::min<int64_t>(elapsed_ms, cap) * RateQps(now_ms);
  tokens_milli_ = std::min(cap, tokens_milli_ + gained);
  refilled_ms_ = now_ms;
}

Take TokenBucket::TryTake(int64_t now_ms) {
  if (behavior_ == Behavior::kWarmUp && now_ms - last_take_ms_ >= warm_up_ms_) {
    Refill(now_ms);
    warm_since_ms_ = now_ms;  // Idle for a whole warm-up period: cold again.
    tokens_milli_ = std::min(tokens_milli_, CapacityMilli(now_ms));
  }
  last_take_ms_ = std::max(last_take_ms_, now_ms);
  Take t;
  if (behavior_ == Behavior::kQueue) {
    const int64_t now_us = now_ms * 1000;
    const int64_t interval_us = std::max<int64_t>(1, 1'000'000 / qps_);
    const int64_t slot_us = std::max(now_us, next_slot_us_);
    const int64_t wait_us = slot_us - now_us;
    if (wait_us > queue_us_max_) {
      t.retry_after_ms = CeilDiv(wait_us - queue_us_max_, 1000);
      return t;
    }
    next_slot_us_ = slot_us + interval_us;
    t.admitted = true;
    t.delay_ms = CeilDiv(wait_us, 1000);
    return t;
  }
  Refill(now_ms);
  if (tokens_milli_ >= 1000) {
    tokens_milli_ -= 1000;
    t.admitted = true;
    return t;
  }
  t.retry_after_ms = std::max<int64_t>(1, CeilDiv(1000 - tokens_milli_, RateQps(now_ms)));
  return t;
}

bool TokenBucket::Idle(int64_t now_ms) const {
  if (behavior_ == Behavior::kQueue) return next_slot_us_ <= now_ms * 1000;
  if (behavior_ == Behavior::kWarmUp && now_ms - last_take_ms_ < warm_up_ms_) return false;
  // Full once the missing tokens have had time to come back.
  const int64_t missing = CapacityMilli(now_ms) - tokens_milli_;
  return missing <= 0 || (now_ms - refilled_ms_) * RateQps(now_ms) >= missing;
}

}  // namespace rp::limits
