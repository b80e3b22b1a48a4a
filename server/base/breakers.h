// Breakers: the circuit breakers of every downstream endpoint, one per (service, endpoint),
// created on first use with the same options, and their metrics. ServiceClient asks it before
// each call and tells it the outcome. Thread-safe; owned by the app, shared by every client.
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>

#include "common/clock.h"
#include "common/metrics/metrics.h"
#include "server/base/circuit_breaker.h"

namespace rp::base {

// Config section `breaker` (declared in base/options.cpp): one set of options for every
// endpoint. Ratios are whole percents so that each key is an integer.
//
// Slow calls count by default. A dependency that answers just under its deadline fails nothing,
// yet holds a pool thread for the whole deadline per call; counted as slow, it opens the breaker
// like one that fails. A call is slow from half its deadline on: twice a healthy call's time is
// far below that, and a call past it already took most of the time its caller allows.
struct BreakerConfig {
  bool enabled = true;
  int64_t window_ms = 10000;
  int calls_min = 20;
  int error_percent_max = 50;  // 0: off.
  int64_t slow_call_ms = 0;    // 0: half the call's deadline.
  int slow_percent_max = 50;   // 0: off.
  int errors_max = 0;          // 0: off.
  int64_t open_ms = 5000;
  int probes_max = 3;

  // call_deadline_ms: the deadline of the calls these breakers guard (slow_call_ms 0 is half
  // of it).
  BreakerOptions Options(int64_t call_deadline_ms) const;
};

class Breakers {
 public:
  // clock is not owned and must outlive this. call_deadline_ms: the downstream calls' deadline
  // (async.call_deadline_ms), which a default slow_call_ms is half of.
  Breakers(BreakerConfig config, int64_t call_deadline_ms, const Clock* clock);

  // The breaker of service's endpoint (a path's first two segments, e.g. /wallet/transfers),
  // nullptr when breakers are disabled. At most kEndpointsMax endpoints per service; further
  // ones share "other", so a path with ids in it cannot grow the map without bound.
  CircuitBreaker* For(std::string_view service, std::string_view path);
  // True when any endpoint breaker of service is open (half-open counts as not open: probes are
  // going). The degrader asks this for the features that need a service.
  bool AnyOpen(std::string_view service);
  // rp_breaker_state{service,endpoint} (0 closed, 1 open, 2 half-open),
  // rp_breaker_calls_refused_total and rp_breaker_transitions_total{...,to}.
  void RegisterMetrics(metrics::Hub& hub);

  static constexpr size_t kEndpointsMax = 16;

 private:
  struct Entry {
    std::string service, endpoint;
    std::unique_ptr<CircuitBreaker> breaker;
    std::map<std::string, int64_t> transitions;  // By target state; under mu_.
  };

  const BreakerOptions options_;
  const bool enabled_;
  const Clock* clock_;
  std::mutex mu_;
  std::map<std::pair<std::string, std::string>, std::unique_ptr<Entry>> entries_;
  std::map<std::string, size_t> per_service_;
};

// "/wallet/transfers/t-1?x=1" -> "/wallet/transfers".
std::string EndpointOf(std::string_view path);

}  // namespace rp::base
