#include "server/gateway/http_metrics.h"

#include <string>

namespace rp::gateway {
namespace {

// The statuses the gateway answers with; anything else is "other" (slot 0).
constexpr std::array<int, 15> kStatuses = {200, 201, 400, 401, 403, 404, 405, 409,
                                           410, 413, 429, 500, 502, 503, 504};

int SlotOf(int status) {
  for (size_t i = 0; i < kStatuses.size(); ++i) {
    if (kStatuses[i] == status) return static_cast<int>(i) + 1;
  }
  return 0;
}

}  // namespace

HttpMetrics::HttpMetrics(metrics::Hub& hub)
    : requests_(prometheus::BuildCounter()
                    .Name("rp_http_requests_total")
                    .Help("HTTP requests by route and status")
                    .Register(hub.registry())),
      latency_(prometheus::BuildHistogram()
                   .Name("rp_http_request_duration_seconds")
                   .Help("HTTP request latency by route and status, read to response")
                   .Register(hub.registry())) {}

const HttpMetrics::Handles& HttpMetrics::HandlesFor(const RouteMatch& route, int status) {
  const size_t r = static_cast<size_t>(route.route) * 2 + (route.method_allowed ? 1 : 0);
  const int slot = SlotOf(status);
  std::atomic<Handles*>& cached = cache_[r][static_cast<size_t>(slot)];
  if (Handles* h = cached.load(std::memory_order_acquire)) return *h;
  std::lock_guard<std::mutex> lock(mu_);
  Handles& h = handles_[r][static_cast<size_t>(slot)];
  if (h.requests == nullptr) {
    const prometheus::Labels labels{
        {"route", std::string(RouteLabel(route))},
        {"status", slot == 0 ? "other" : std::to_string(kStatuses[static_cast<size_t>(slot - 1)])}};
    h.requests = &requests_.Add(labels);
    h.latency = &latency_.Add(labels, metrics::LatencyBuckets());
  }
  cached.store(&h, std::memory_order_release);
  return h;
}

void HttpMetrics::Observe(const RouteMatch& route, int status, double seconds) {
  const Handles& h = HandlesFor(route, status);
  h.requests->Increment();
  h.latency->Observe(seconds);
}

}  // namespace rp::gateway
