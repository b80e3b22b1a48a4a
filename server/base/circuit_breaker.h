// CircuitBreaker: closed → open → half-open for one downstream endpoint, as Resilience4j and
// Sentinel define it. Closed counts outcomes in a sliding time window (one bucket per second);
// once the window holds at least calls_min calls and the error ratio, the slow-call ratio or
// the error count reaches its bound, the breaker opens. Open refuses every call (fail fast: no
// thread or connection is held) for open_ms, then half-opens and lets at most probes_max calls
// through; one failed or slow probe opens it again, probes_max good ones close it with an empty
// window. Time comes from an injected Clock, so tests script it exactly.
//
// Thread-safe: Allow() and Record() may be called from any thread.
#pragma once

#include <cstdint>
#include <functional>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "common/clock.h"

namespace rp::base {

struct BreakerOptions {
  int64_t window_ms = 10000;     // Outcomes older than this no longer count (1 s buckets).
  int calls_min = 20;            // Fewer calls in the window never open the breaker.
  double error_ratio_max = 0.5;  // Opens at errors / calls >= this (1.0 or more: off).
  int64_t slow_call_ms = 1000;   // A call at least this long is slow...
  double slow_ratio_max = 0.5;   // ...and the breaker opens at slow / calls >= this (> 1: off).
  int errors_max = 0;            // Opens at this many errors in the window (0: off).
  int64_t open_ms = 5000;        // How long an open breaker refuses before it half-opens.
  int probes_max = 3;            // Calls let through while half-open.
};

// A bound given as a whole percent (config keys are integers) as the ratio BreakerOptions takes;
// 0 means off: a ratio above 1 is never reached.
inline double RatioOfPercent(int percent) {
  return percent == 0 ? 2.0 : percent / 100.0;
}

// Values are what rp_breaker_state reports.
enum class BreakerState : uint8_t { kClosed = 0, kOpen = 1, kHalfOpen = 2 };
std::string_view Name(BreakerState s);  // "closed" | "open" | "half_open"

// Monotonic counts.
struct BreakerStats {
  int64_t allowed = 0;
  int64_t refused = 0;  // Calls Allow() turned away (open, or half-open with its probes out).
  int64_t opened = 0;   // Transitions into open (from closed or half-open).
  int64_t closed = 0;   // Transitions from half-open back to closed.
};

class CircuitBreaker {
 public:
  using OnTransition = std::function<void(BreakerState from, BreakerState to)>;
  // clock is not owned and must outlive the breaker. on_transition (may be empty) is called
  // with the breaker's lock released, once per transition, for logs and metrics.
  CircuitBreaker(BreakerOptions options, const Clock* clock, OnTransition on_transition = {});

  // Whether a call may go ahead now. Every call Allow() lets through must be Record()ed.
  [[nodiscard]] bool Allow();
  // The outcome of a call Allow() let through: ok false for an error (transport failure,
  // deadline, 5xx); latency_ms judges slowness.
  void Record(bool ok, int64_t latency_ms);

  BreakerState state();  // Open moves to half-open here too once open_ms has passed.
  BreakerStats stats() const;

 private:
  struct Bucket {
    int64_t second = -1;
    int calls = 0, errors = 0, slow = 0;
  };
  // With mu_ held. Returns the transition made (from == to: none).
  std::pair<BreakerState, BreakerState> MaybeHalfOpen(int64_t now_ms);
  std::pair<BreakerState, BreakerState> RecordLocked(bool failed, bool slow, int64_t now_ms);
  bool Tripped(int64_t now_ms) const;
  void Move(BreakerState to, int64_t now_ms);
  void Notify(std::pair<BreakerState, BreakerState> t) const;

  const BreakerOptions options_;
  const Clock* clock_;
  const OnTransition on_transition_;
  mutable std::mutex mu_;
  BreakerState state_ = BreakerState::kClosed;
  int64_t opened_at_ms_ = 0;
  int probes_out_ = 0, probes_ok_ = 0;
  std::vector<Bucket> buckets_;  // Ring by second.
  BreakerStats stats_;
};

}  // namespace rp::base
