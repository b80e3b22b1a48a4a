#include "server/base/circuit_breaker.h"

#include <algorithm>

#include "common/enum_names.h"

namespace rp::base {

namespace {
constexpr EnumNames<BreakerState, 3> kStateNames{{"closed", "open", "half_open"}};
}  // namespace

std::string_view Name(BreakerState s) {
  return kStateNames.Name(s);
}

CircuitBreaker::CircuitBreaker(BreakerOptions options, const Clock* clock,
                               OnTransition on_transition)
    : options_(options),
      clock_(clock),
      on_transition_(std::move(on_transition)),
      buckets_(static_cast<size_t>(std::max<int64_t>(1, (options.window_ms + 999) / 1000))) {}

bool CircuitBreaker::Allow() {
  const int64_t now_ms = clock_->NowMs();
  std::pair<BreakerState, BreakerState> t;
  bool allowed = false;
  {
    std::lock_guard<std::mutex> lock(mu_);
    t = MaybeHalfOpen(now_ms);
    if (state_ == BreakerState::kClosed) {
      allowed = true;
    } else if (state_ == BreakerState::kHalfOpen && probes_out_ < options_.probes_max) {
      ++probes_out_;
      allowed = true;
    }
    ++(allowed ? stats_.allowed : stats_.refused);
  }
  Notify(t);
  return allowed;
}

void CircuitBreaker::Record(bool ok, int64_t latency_ms) {
  const int64_t now_ms = clock_->NowMs();
  std::pair<BreakerState, BreakerState> t;
  {
    std::lock_guard<std::mutex> lock(mu_);
    t = RecordLocked(!ok, latency_ms >= options_.slow_call_ms, now_ms);
  }
  Notify(t);
}

BreakerState CircuitBreaker::state() {
  std::pair<BreakerState, BreakerState> t;
  BreakerState s;
  {
    std::lock_guard<std::mutex> lock(mu_);
    t = MaybeHalfOpen(clock_->NowMs());
    s = state_;
  }
  Notify(t);
  return s;
}

BreakerStats CircuitBreaker::stats() const {
  std::lock_guard<std::mutex> lock(mu_);
  return stats_;
}

std::pair<BreakerState, BreakerState> CircuitBreaker::MaybeHalfOpen(int64_t now_ms) {
  const BreakerState from = state_;
  if (state_ == BreakerState::kOpen && now_ms - opened_at_ms_ >= options_.open_ms) {
    Move(BreakerState::kHalfOpen, now_ms);
  }
  return {from, state_};
}

std::pair<BreakerState, BreakerState> CircuitBreaker::RecordLocked(bool failed, bool slow,
                                                                   int64_t now_ms) {
  const BreakerState from = state_;
  if (state_ == BreakerState::kHalfOpen) {
    if (failed || slow) {
      Move(BreakerState::kOpen, now_ms);
    } else if (++probes_ok_ >= options_.probes_max) {
      Move(BreakerState::kClosed, now_ms);
    }
    return {from, state_};
  }
  if (state_ == BreakerState::kOpen) return {from, state_};  // A call from before it opened.
  const int64_t second = now_ms / 1000;
  Bucket& b = buckets_[static_cast<size_t>(second % static_cast<int64_t>(buckets_.size()))];
  if (b.second != second) b = Bucket{second, 0, 0, 0};
  b.calls += 1;
  b.errors += failed ? 1 : 0;
  b.slow += slow ? 1 : 0;
  if (Tripped(now_ms)) Move(BreakerState::kOpen, now_ms);
  return {from, state_};
}

bool CircuitBreaker::Tripped(int64_t now_ms) const {
  const int64_t oldest = now_ms / 1000 - static_cast<int64_t>(buckets_.size()) + 1;
  int64_t calls = 0, errors = 0, slow = 0;
  for (const Bucket& b : buckets_) {
    if (b.second < oldest) continue;
    calls += b.calls;
    errors += b.errors;
    slow += b.slow;
  }
  if (calls == 0) return false;
  if (options_.errors_max > 0 && errors >= options_.errors_max) return true;
  if (calls < options_.calls_min) return false;
  const double n = static_cast<double>(calls);
  return static_cast<double>(errors) / n >= options_.error_ratio_max ||
         static_cast<double>(slow) / n >= options_.slow_ratio_max;
}

void CircuitBreaker::Move(BreakerState to, int64_t now_ms) {
  if (to == BreakerState::kOpen) {
    opened_at_ms_ = now_ms;
    ++stats_.opened;
  }
  if (to == BreakerState::kClosed) {
    std::fill(buckets_.begin(), buckets_.end(), Bucket{});
    ++stats_.closed;
  }
  probes_out_ = 0;
  probes_ok_ = 0;
  state_ = to;
}

void CircuitBreaker::Notify(std::pair<BreakerState, BreakerState> t) const {
  if (t.first != t.second && on_transition_) on_transition_(t.first, t.second);
}

}  // namespace rp::base
