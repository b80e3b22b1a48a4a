// TokenBucket: the state of one QPS rule for one key (the route, a user or a packet), with the
// rule's behaviour. Integer arithmetic throughout: tokens are counted in thousandths, so a rule
// of `qps` requests per second refills exactly `qps` thousandths per millisecond.
//
// - kReject: the classic token bucket (capacity `burst`, refill `qps`/s); an empty bucket refuses
//   and says when the next token arrives.
// - kWarmUp: the same bucket whose rate and capacity start at a third of the rule's and ramp
//   linearly to it over warm_up_ms (Sentinel's warm-up, "cold factor" 3). A key idle for a whole
//   warm-up period cools down again, so a sudden spike after a quiet spell meets the cold rate.
// - kQueue: pacing (Sentinel's rate limiter / a leaky bucket): requests are admitted one every
//   1/qps seconds; one whose turn is later than queue_ms_max from now is refused, the others
//   are told how long to wait for their turn.
//
// Time is passed in (ms from an injected Clock), so tests script it. Not thread-safe: the
// limiter holds its rule's lock around every call.
#pragma once

#include <cstdint>

#include "server/limits/rules.h"

namespace rp::limits {

struct Take {
  bool admitted = false;
  int64_t delay_ms = 0;        // Admitted after waiting this long (kQueue only).
  int64_t retry_after_ms = 0;  // Refused: when the request would have a chance again.
};

class TokenBucket {
 public:
  // rule.qps > 0. The bucket starts full (kReject, kQueue) or cold (kWarmUp) at now_ms.
  TokenBucket(const LimitRule& rule, int64_t now_ms);

  Take TryTake(int64_t now_ms);
  // True when the bucket is as a new one would be: it may be forgotten without changing any
  // future decision (used to bound the number of per-user and per-packet buckets).
  bool Idle(int64_t now_ms) const;
  // Requests per second allowed at now_ms (the warm-up ramp; qps otherwise).
  int64_t RateQps(int64_t now_ms) const;

 private:
  void Refill(int64_t now_ms);
  int64_t CapacityMilli(int64_t now_ms) const;

  const Behavior behavior_;
  const int64_t qps_, burst_, warm_up_ms_, queue_us_max_;
  int64_t tokens_milli_ = 0;
  int64_t refilled_ms_ = 0;
  int64_t warm_since_ms_ = 0;
  int64_t last_take_ms_ = 0;
  int64_t next_slot_us_ = 0;  // kQueue: the earliest time the next request may go.
};

}  // namespace rp::limits
