#include "server/base/breakers.h"

#include <spdlog/spdlog.h>

#include <algorithm>

namespace rp::base {

std::string EndpointOf(std::string_view path) {
  path = path.substr(0, path.find('?'));
  size_t end = 0;
  for (int segments = 0; segments < 2 && end != std::string_view::npos; ++segments) {
    end = path.find('/', end + 1);
  }
  return std::string(path.substr(0, end));
}

BreakerOptions BreakerConfig::Options(int64_t call_deadline_ms) const {
  BreakerOptions o;
  o.window_ms = window_ms;
  o.calls_min = calls_min;
  o.error_ratio_max = RatioOfPercent(error_percent_max);
  o.slow_call_ms = slow_call_ms > 0 ? slow_call_ms : std::max<int64_t>(1, call_deadline_ms / 2);
  o.slow_ratio_max = RatioOfPercent(slow_percent_max);
  o.errors_max = errors_max;
  o.open_ms = open_ms;
  o.probes_max = probes_max;
  return o;
}

Breakers::Breakers(BreakerConfig config, int64_t call_deadline_ms, const Clock* clock)
    : options_(config.Options(call_deadline_ms)), enabled_(config.enabled), clock_(clock) {}

CircuitBreaker* Breakers::For(std::string_view service, std::string_view path) {
  if (!enabled_) return nullptr;
  std::string endpoint = EndpointOf(path);
  std::lock_guard<std::mutex> lock(mu_);
  auto key = std::make_pair(std::string(service), endpoint);
  auto it = entries_.find(key);
  if (it != entries_.end()) return it->second->breaker.get();
  size_t& count = per_service_[key.first];
  if (count >= kEndpointsMax) {
    key.second = "other";
    it = entries_.find(key);
    if (it != entries_.end()) return it->second->breaker.get();
  }
  ++count;
  auto e = std::make_unique<Entry>();
  e->service = key.first;
  e->endpoint = key.second;
  Entry* raw = e.get();
  // The callback runs without the breaker's lock; it takes ours only to count.
  e->breaker = std::make_unique<CircuitBreaker>(
      options_, clock_, [this, raw](BreakerState from, BreakerState to) {
        spdlog::warn("circuit breaker {} {}: {} -> {}", raw->service, raw->endpoint, Name(from),
                     Name(to));
        std::lock_guard<std::mutex> l(mu_);
        ++raw->transitions[std::string(Name(to))];
      });
  CircuitBreaker* b = e->breaker.get();
  entries_.emplace(std::move(key), std::move(e));
  return b;
}

bool Breakers::AnyOpen(std::string_view service) {
  std::vector<CircuitBreaker*> of_service;
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (auto& [key, e] : entries_) {
      if (key.first == service) of_service.push_back(e->breaker.get());
    }
  }
  for (CircuitBreaker* b : of_service) {  // state() may call back into us: outside mu_.
    if (b->state() == BreakerState::kOpen) return true;
  }
  return false;
}

void Breakers::RegisterMetrics(metrics::Hub& hub) {
  hub.AddCollector([this](metrics::Writer& w) {
    struct Row {
      Entry* e;
      std::map<std::string, int64_t> transitions;
    };
    std::vector<Row> rows;
    {
      std::lock_guard<std::mutex> lock(mu_);
      for (auto& [key, e] : entries_) rows.push_back({e.get(), e->transitions});
    }
    int64_t open = 0;
    for (const Row& r : rows) open += r.e->breaker->state() == BreakerState::kOpen ? 1 : 0;
    w.Gauge("rp_breakers_open", "Downstream endpoints whose breaker is open now",
            static_cast<double>(open));
    for (const Row& r : rows) {  // state() may call back into us: outside mu_.
      const metrics::Labels labels = {{"service", r.e->service}, {"endpoint", r.e->endpoint}};
      const BreakerState s = r.e->breaker->state();
      w.Gauge("rp_breaker_state", "Circuit breaker state: 0 closed, 1 open, 2 half-open",
              static_cast<double>(s), labels);
      w.Counter("rp_breaker_calls_refused_total", "Downstream calls an open breaker refused",
                static_cast<double>(r.e->breaker->stats().refused), labels);
      for (const auto& [to, n] : r.transitions) {
        metrics::Labels l = labels;
        l["to"] = to;
        w.Counter("rp_breaker_transitions_total", "Circuit breaker transitions, by new state",
                  static_cast<double>(n), l);
      }
    }
  });
}

}  // namespace rp::base
