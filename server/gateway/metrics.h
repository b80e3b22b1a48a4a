// ServerMetrics: everything rp-server exports at GET /metrics (Prometheus text format, rendered
// by prometheus-cpp). Thread-safe: prometheus-cpp metrics are atomic; label lookups take the
// family's lock, so hot paths cache the returned references.
#pragma once

#include <prometheus/counter.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "server/async/async_service.h"
#include "server/base/ledger_writer.h"
#include "server/core/claim_scheme.h"
#include "server/recon/recon.h"

namespace rp::gateway {

class ServerMetrics {
 public:
  explicit ServerMetrics(std::string scheme);

  // One finished HTTP request: route is the template ("POST /v1/packets/{id}/claims").
  void ObserveRequest(const std::string& route, int status, double seconds);
  // result: won | repeat | sold_out | expired | not_claimable | packet_not_found | error.
  void CountClaim(const std::string& result);
  // A keyed ledger job's wait for its packet lock (the writer's observer).
  void ObserveLockWait(int64_t wait_ns);

  // What other components report, mirrored into gauges at each scrape.
  struct Inputs {
    base::LedgerWriterStats writer;
    int64_t illegal_transitions = 0;
    const async::AsyncStats* async = nullptr;   // Null: no workers in this process.
    const recon::ReconResult* recon = nullptr;  // Null: no periodic recon yet.
    int64_t social_degraded = 0;
    core::SchemeStats scheme;
    // Redis streams in use (the task queue, rain grabs); empty when none.
    struct Stream {
      std::string name;  // "tasks" | "grabs"
      int64_t backlog = 0;
      int64_t lag_ms = 0;
      int64_t published = 0;
      int64_t fallbacks = 0;  // Work done around Redis because it failed.
    };
    std::vector<Stream> streams;
  };
  // Refreshes the mirrored gauges, then renders the Prometheus text format.
  std::string Render(const Inputs& in);

 private:
  std::shared_ptr<prometheus::Registry> registry_;
  std::string scheme_;
  prometheus::Family<prometheus::Counter>& requests_;
  prometheus::Family<prometheus::Histogram>& latency_;
  prometheus::Family<prometheus::Counter>& claims_;
  prometheus::Histogram& lock_wait_;
  prometheus::Gauge& db_busy_retries_;
  prometheus::Gauge& ledger_commits_;
  prometheus::Gauge& ledger_claim_commits_;
  prometheus::Gauge& ledger_jobs_;
  prometheus::Gauge& ledger_queue_depth_;
  prometheus::Gauge& lock_wait_seconds_total_;
  prometheus::Gauge& illegal_transitions_;
  prometheus::Family<prometheus::Gauge>& tasks_completed_;
  prometheus::Family<prometheus::Gauge>& task_retries_;
  prometheus::Family<prometheus::Gauge>& stuck_orders_;
  prometheus::Gauge& queue_lag_seconds_;
  prometheus::Gauge& recon_drift_cents_;
  prometheus::Gauge& recon_discrepancies_;
  prometheus::Gauge& social_degraded_;
  prometheus::Gauge& scheme_fallbacks_;
  prometheus::Gauge& scheme_divergences_;
  prometheus::Gauge& redis_errors_;
  prometheus::Gauge& lock_waiters_;
  prometheus::Family<prometheus::Gauge>& stream_backlog_;
  prometheus::Family<prometheus::Gauge>& stream_lag_seconds_;
  prometheus::Family<prometheus::Gauge>& stream_published_;
  prometheus::Family<prometheus::Gauge>& stream_fallbacks_;
};

}  // namespace rp::gateway
