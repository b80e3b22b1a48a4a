#include "server/gateway/metrics.h"

#include <prometheus/text_serializer.h>

namespace rp::gateway {
namespace {

using prometheus::Histogram;

Histogram::BucketBoundaries LatencyBuckets() {
  return {0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025,
          0.05,   0.1,     0.25,   0.5,   1.0,    2.5,   5.0,  10.0};
}

prometheus::Gauge& GaugeOf(prometheus::Registry& r, const std::string& name,
                           const std::string& help, const prometheus::Labels& labels = {}) {
  return prometheus::BuildGauge().Name(name).Help(help).Register(r).Add(labels);
}

prometheus::Family<prometheus::Gauge>& GaugeFamily(prometheus::Registry& r, const std::string& name,
                                                   const std::string& help) {
  return prometheus::BuildGauge().Name(name).Help(help).Register(r);
}

}  // namespace

ServerMetrics::ServerMetrics(std::string scheme)
    : registry_(std::make_shared<prometheus::Registry>()),
      scheme_(std::move(scheme)),
      requests_(prometheus::BuildCounter()
                    .Name("rp_http_requests_total")
                    .Help("HTTP requests by route and status")
                    .Register(*registry_)),
      latency_(prometheus::BuildHistogram()
                   .Name("rp_http_request_duration_seconds")
                   .Help("HTTP request latency by route and status, read to response")
                   .Register(*registry_)),
      claims_(prometheus::BuildCounter()
                  .Name("rp_claims_total")
                  .Help("Claims by scheme and result")
                  .Register(*registry_)),
      lock_wait_(prometheus::BuildHistogram()
                     .Name("rp_lock_wait_seconds")
                     .Help("Time a claim waited for its packet's lock before running")
                     .Register(*registry_)
                     .Add({{"scheme", scheme_}}, LatencyBuckets())),
      db_busy_retries_(GaugeOf(*registry_, "rp_db_busy_retries_total",
                               "SQLITE_BUSY retries of the ledger writer")),
      ledger_commits_(GaugeOf(*registry_, "rp_ledger_commits_total", "Ledger write commits")),
      ledger_claim_commits_(GaugeOf(*registry_, "rp_ledger_claim_commits_total",
                                    "Ledger commits that held at least one claim transaction")),
      ledger_jobs_(GaugeOf(*registry_, "rp_ledger_jobs_total", "Ledger write jobs committed")),
      ledger_queue_depth_(
          GaugeOf(*registry_, "rp_ledger_queue_depth", "Write jobs waiting for the ledger writer")),
      lock_wait_seconds_total_(GaugeOf(*registry_, "rp_lock_wait_seconds_total",
                                       "Total time claims waited for packet locks",
                                       {{"scheme", scheme_}})),
      illegal_transitions_(GaugeOf(*registry_, "rp_illegal_transitions_total",
                                   "State transitions rejected by the transition tables")),
      tasks_completed_(prometheus::BuildGauge()
                           .Name("rp_async_tasks_completed_total")
                           .Help("Async tasks whose downstream effect was confirmed, by kind")
                           .Register(*registry_)),
      task_retries_(prometheus::BuildGauge()
                        .Name("rp_async_task_retries_total")
                        .Help("Async task attempts that failed and were rescheduled, by kind")
                        .Register(*registry_)),
      stuck_orders_(prometheus::BuildGauge()
                        .Name("rp_stuck_orders")
                        .Help("Tasks pending past async.stuck_after_ms at the last scan, by kind")
                        .Register(*registry_)),
      queue_lag_seconds_(GaugeOf(*registry_, "rp_queue_lag_seconds",
                                 "Age of the oldest pending async task at the last scan")),
      recon_drift_cents_(GaugeOf(*registry_, "recon_drift_cents",
                                 "Cents off in the last periodic reconciliation (sum of |drift|)")),
      recon_discrepancies_(GaugeOf(*registry_, "recon_discrepancies",
                                   "Discrepancies found by the last periodic reconciliation")),
      social_degraded_(GaugeOf(*registry_, "rp_social_degraded_total",
                               "Claims let through unchecked because the social lookup failed")),
      scheme_fallbacks_(GaugeOf(*registry_, "rp_scheme_fallbacks_total",
                                "Claims sent to the ledger because Redis failed or was stale",
                                {{"scheme", scheme_}})),
      scheme_divergences_(GaugeOf(*registry_, "rp_scheme_divergences_total",
                                  "Redis counters found out of step with the ledger and resynced",
                                  {{"scheme", scheme_}})),
      redis_errors_(GaugeOf(*registry_, "rp_redis_errors_total", "Failed Redis commands")),
      lock_waiters_(GaugeOf(*registry_, "rp_lock_waiters",
                            "Claims queued behind their packet's lock at the last writer batch",
                            {{"scheme", scheme_}})),
      stream_backlog_(GaugeFamily(*registry_, "rp_stream_backlog",
                                  "Redis stream entries not yet acknowledged, by stream")),
      stream_lag_seconds_(GaugeFamily(*registry_, "rp_stream_lag_seconds",
                                      "Age of the oldest unacknowledged stream entry")),
      stream_published_(GaugeFamily(*registry_, "rp_stream_published_total",
                                    "Entries published to a Redis stream, by stream")),
      stream_fallbacks_(GaugeFamily(*registry_, "rp_stream_fallbacks_total",
                                    "Work done around a Redis stream because Redis failed")) {}

void ServerMetrics::ObserveRequest(const std::string& route, int status, double seconds) {
  prometheus::Labels labels{{"route", route}, {"status", std::to_string(status)}};
  requests_.Add(labels).Increment();
  latency_.Add(labels, LatencyBuckets()).Observe(seconds);
}

void ServerMetrics::CountClaim(const std::string& result) {
  claims_.Add({{"scheme", scheme_}, {"result", result}}).Increment();
}

void ServerMetrics::ObserveLockWait(int64_t wait_ns) {
  lock_wait_.Observe(static_cast<double>(wait_ns) / 1e9);
}

std::string ServerMetrics::Render(const Inputs& in) {
  const base::LedgerWriterStats& w = in.writer;
  const int64_t illegal = in.illegal_transitions;
  const async::AsyncStats* async = in.async;
  const recon::ReconResult* recon = in.recon;
  social_degraded_.Set(static_cast<double>(in.social_degraded));
  scheme_fallbacks_.Set(static_cast<double>(in.scheme.fallbacks));
  scheme_divergences_.Set(static_cast<double>(in.scheme.divergences));
  redis_errors_.Set(static_cast<double>(in.scheme.redis_errors));
  if (recon != nullptr) {
    recon_drift_cents_.Set(static_cast<double>(recon->report.DriftCents()));
    recon_discrepancies_.Set(static_cast<double>(recon->report.violations.size()));
  }
  if (async != nullptr) {
    for (const char* kind : {"transfer", "refund", "payment"}) {
      auto value = [kind](const std::map<std::string, int64_t>& m) {
        auto it = m.find(kind);
        return static_cast<double>(it == m.end() ? 0 : it->second);
      };
      tasks_completed_.Add({{"kind", kind}}).Set(value(async->completed));
      task_retries_.Add({{"kind", kind}}).Set(value(async->retried));
      stuck_orders_.Add({{"kind", kind}}).Set(value(async->stuck));
    }
    queue_lag_seconds_.Set(static_cast<double>(async->oldest_pending_ms) / 1000.0);
  }
  db_busy_retries_.Set(static_cast<double>(w.busy_retries));
  ledger_commits_.Set(static_cast<double>(w.commits));
  ledger_claim_commits_.Set(static_cast<double>(w.claim_commits));
  ledger_jobs_.Set(static_cast<double>(w.jobs));
  ledger_queue_depth_.Set(static_cast<double>(w.queue_depth));
  lock_wait_seconds_total_.Set(static_cast<double>(w.lock_wait_ns_total) / 1e9);
  illegal_transitions_.Set(static_cast<double>(illegal));
  lock_waiters_.Set(static_cast<double>(w.lock_waiters));
  for (const Inputs::Stream& st : in.streams) {
    const prometheus::Labels labels{{"stream", st.name}};
    stream_backlog_.Add(labels).Set(static_cast<double>(st.backlog));
    stream_lag_seconds_.Add(labels).Set(static_cast<double>(st.lag_ms) / 1000.0);
    stream_published_.Add(labels).Set(static_cast<double>(st.published));
    stream_fallbacks_.Add(labels).Set(static_cast<double>(st.fallbacks));
  }
  return prometheus::TextSerializer().Serialize(registry_->Collect());
}

}  // namespace rp::gateway
