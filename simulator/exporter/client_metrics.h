// ClientMetrics: rp-sim's own side of a run on /metrics (Prometheus text 0.0.4), so one
// Prometheus scrapes the client beside rp-server and rp-mock:
//   rp_sim_request_duration_seconds{op}   histogram, latency from each request's *intended*
//                                         start (the schedule, not the send: no coordinated
//                                         omission), the same figure the summary reports
//   rp_sim_requests_total{op,code}        answers by HTTP status (code "0": no answer)
//   rp_sim_arrivals_total                 arrivals the load model offered
//   rp_sim_arrivals_dropped_total{reason} arrivals not started (reason="in_flight_bound")
//   rp_sim_arrival_lag_seconds            histogram, how late the generator started arrivals
//   rp_sim_journeys_in_flight             journeys running now
//   rp_sim_run_info{scenario,claim_scheme,ledger,seed}, rp_sim_load_running
//
// Thread-safe: the load thread records (StatsListener), the HTTP thread renders. Label values
// come from the scenario and from status codes folded into 0 or 100..599, so the number of
// series is bounded by the scenario's operations, not by anything the server answers.
#pragma once

#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>

#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "common/metrics/metrics.h"
#include "common/status.h"
#include "simulator/stats/run_stats.h"

namespace httplib {
class Server;
}

namespace rp::sim {

class ClientMetrics : public StatsListener {
 public:
  ClientMetrics();
  ~ClientMetrics() override;

  // The run now loading (replaces the previous run's info series: one run at a time).
  void BeginRun(const std::string& scenario, const std::string& claim_scheme,
                const std::string& ledger, uint64_t seed);
  void EndRun();

  void OnRequest(const std::string& op, int status, int64_t latency_us) override;
  void OnArrival(int64_t lag_us) override;
  void OnDropped() override;
  void OnJourneysInFlight(int journeys) override;

  std::string Render() { return hub_.Render(); }

 private:
  struct OpHandles {
    prometheus::Histogram* latency = nullptr;
    std::map<int, prometheus::Counter*> by_code;
  };
  OpHandles& Op(const std::string& op);  // Caller holds mu_.

  metrics::Hub hub_;
  prometheus::Family<prometheus::Histogram>& latency_;
  prometheus::Family<prometheus::Counter>& requests_;
  prometheus::Family<prometheus::Gauge>& run_info_;
  prometheus::Counter& arrivals_;
  prometheus::Counter& dropped_in_flight_;
  prometheus::Histogram& arrival_lag_;
  prometheus::Gauge& in_flight_;
  prometheus::Gauge& load_running_;
  std::mutex mu_;  // Guards ops_ and run_info_series_ (family lookups), not the samples.
  std::map<std::string, OpHandles> ops_;
  prometheus::Gauge* run_info_series_ = nullptr;
};

// Serves ClientMetrics on http://HOST:PORT/metrics from its own thread until destroyed.
class MetricsEndpoint {
 public:
  // listen: "PORT" (127.0.0.1) or "HOST:PORT"; PORT 0 picks a free one. Unavailable (nothing
  // started) when it does not parse or cannot bind. metrics must outlive the endpoint.
  static Result<std::unique_ptr<MetricsEndpoint>> Start(const std::string& listen,
                                                        ClientMetrics* metrics);
  ~MetricsEndpoint();
  std::string url() const { return url_; }

 private:
  MetricsEndpoint() = default;
  std::unique_ptr<httplib::Server> http_;
  std::thread thread_;
  std::string url_;
};

}  // namespace rp::sim
