// ShiftedClock: wall time plus an offset the test moves. Background work (workers' back-offs,
// scanners) runs in real time, and a packet's expiry comes when the test says, not when a busy
// machine happens to get there. Thread-safe.
#pragma once

#include <atomic>
#include <cstdint>

#include "common/clock.h"

namespace rp::testing {

class ShiftedClock final : public Clock {
 public:
  int64_t NowMs() const override { return wall_.NowMs() + offset_ms_.load(); }
  // Moves this clock (not the wall) forward by delta_ms.
  void JumpMs(int64_t delta_ms) { offset_ms_ += delta_ms; }

 private:
  SystemClock wall_;
  // A day back, so tokens minted from the wall clock stay valid after a jump forward.
  std::atomic<int64_t> offset_ms_{-86'400'000};
};

}  // namespace rp::testing
