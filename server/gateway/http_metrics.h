// HttpMetrics: rp_http_requests_total and rp_http_request_duration_seconds by route and status.
// Both label sets are bounded (the route table; statuses folded into the few the gateway
// answers, "other" for the rest), and each (route, status) pair's metric handles are looked up
// once and cached, so the request path takes no label lookup. Thread-safe.
#pragma once

#include <prometheus/counter.h>
#include <prometheus/histogram.h>

#include <array>
#include <atomic>
#include <mutex>

#include "common/metrics/metrics.h"
#include "server/gateway/routes.h"

namespace rp::gateway {

class HttpMetrics {
 public:
  explicit HttpMetrics(metrics::Hub& hub);
  // One finished request.
  void Observe(const RouteMatch& route, int status, double seconds);

 private:
  static constexpr int kStatusSlots = 16;
  struct Handles {
    prometheus::Counter* requests = nullptr;
    prometheus::Histogram* latency = nullptr;
  };
  const Handles& HandlesFor(const RouteMatch& route, int status);

  prometheus::Family<prometheus::Counter>& requests_;
  prometheus::Family<prometheus::Histogram>& latency_;
  std::mutex mu_;  // Creating handles only.
  std::array<std::array<std::atomic<Handles*>, kStatusSlots>, kRouteCount * 2> cache_{};
  std::array<std::array<Handles, kStatusSlots>, kRouteCount * 2> handles_{};
};

}  // namespace rp::gateway
