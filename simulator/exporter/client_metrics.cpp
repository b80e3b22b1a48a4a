#include "simulator/exporter/client_metrics.h"

#include <httplib.h>

#include <chrono>
#include <cstdlib>

namespace rp::sim {
namespace {

using prometheus::BuildCounter;
using prometheus::BuildGauge;
using prometheus::BuildHistogram;

// Arrival lag is normally far below a millisecond; buckets reach seconds so a starved
// generator shows how far behind it fell.
prometheus::Histogram::BucketBoundaries LagBuckets() {
  return {0.0001, 0.001, 0.005, 0.01, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0};
}

}  // namespace

ClientMetrics::ClientMetrics()
    : latency_(BuildHistogram()
                   .Name("rp_sim_request_duration_seconds")
                   .Help("Latency of each request from its intended start (scheduled arrival or "
                         "the moment its journey was ready), by operation")
                   .Register(hub_.registry())),
      requests_(BuildCounter()
                    .Name("rp_sim_requests_total")
                    .Help("Answers the simulator received, by operation and HTTP status (code 0: "
                          "no answer)")
                    .Register(hub_.registry())),
      run_info_(BuildGauge()
                    .Name("rp_sim_run_info")
                    .Help("The run now loading (1), labelled with its scenario, scheme, ledger "
                          "and seed")
                    .Register(hub_.registry())),
      arrivals_(BuildCounter()
                    .Name("rp_sim_arrivals_total")
                    .Help("Arrivals the load model offered (started or dropped)")
                    .Register(hub_.registry())
                    .Add({})),
      dropped_in_flight_(BuildCounter()
                             .Name("rp_sim_arrivals_dropped_total")
                             .Help("Arrivals the simulator did not start, by reason")
                             .Register(hub_.registry())
                             .Add({{"reason", "in_flight_bound"}})),
      arrival_lag_(BuildHistogram()
                       .Name("rp_sim_arrival_lag_seconds")
                       .Help("How late the generator started each arrival after its scheduled "
                             "instant")
                       .Register(hub_.registry())
                       .Add({}, LagBuckets())),
      in_flight_(BuildGauge()
                     .Name("rp_sim_journeys_in_flight")
                     .Help("Journeys running now")
                     .Register(hub_.registry())
                     .Add({})),
      load_running_(BuildGauge()
                        .Name("rp_sim_load_running")
                        .Help("1 while a load runs, 0 between runs and while verifying")
                        .Register(hub_.registry())
                        .Add({})) {}

ClientMetrics::~ClientMetrics() = default;

void ClientMetrics::BeginRun(const std::string& scenario, const std::string& claim_scheme,
                             const std::string& ledger, uint64_t seed) {
  std::lock_guard<std::mutex> lock(mu_);
  if (run_info_series_ != nullptr) run_info_.Remove(run_info_series_);
  run_info_series_ = &run_info_.Add({{"scenario", scenario},
                                     {"claim_scheme", claim_scheme},
                                     {"ledger", ledger},
                                     {"seed", std::to_string(seed)}});
  run_info_series_->Set(1);
  load_running_.Set(1);
}

void ClientMetrics::EndRun() {
  load_running_.Set(0);
  in_flight_.Set(0);
}

ClientMetrics::OpHandles& ClientMetrics::Op(const std::string& op) {
  auto it = ops_.find(op);
  if (it != ops_.end()) return it->second;
  OpHandles& h = ops_[op];
  h.latency = &latency_.Add({{"op", op}}, metrics::LatencyBuckets());
  return h;
}

void ClientMetrics::OnRequest(const std::string& op, int status, int64_t latency_us) {
  const int code = status >= 100 && status <= 599 ? status : 0;
  prometheus::Counter* counter = nullptr;
  prometheus::Histogram* latency = nullptr;
  {
    std::lock_guard<std::mutex> lock(mu_);
    OpHandles& h = Op(op);
    prometheus::Counter*& c = h.by_code[code];
    if (c == nullptr) c = &requests_.Add({{"op", op}, {"code", std::to_string(code)}});
    counter = c;
    latency = h.latency;
  }
  counter->Increment();
  latency->Observe(static_cast<double>(latency_us) / 1e6);
}

void ClientMetrics::OnArrival(int64_t lag_us) {
  arrivals_.Increment();
  arrival_lag_.Observe(static_cast<double>(std::max<int64_t>(0, lag_us)) / 1e6);
}

void ClientMetrics::OnDropped() {
  dropped_in_flight_.Increment();
}

void ClientMetrics::OnJourneysInFlight(int journeys) {
  in_flight_.Set(journeys);
}

Result<std::unique_ptr<MetricsEndpoint>> MetricsEndpoint::Start(const std::string& listen,
                                                                ClientMetrics* metrics) {
  std::string host = "127.0.0.1", port_text = listen;
  if (const size_t colon = listen.rfind(':'); colon != std::string::npos) {
    host = listen.substr(0, colon);
    port_text = listen.substr(colon + 1);
  }
  char* end = nullptr;
  const long port = std::strtol(port_text.c_str(), &end, 10);
  if (host.empty() || port_text.empty() || *end != '\0' || port < 0 || port > 65535) {
    return Status(Error::kBadConfig,
                  "--metrics-listen '" + listen + "': expected PORT or HOST:PORT");
  }
  std::unique_ptr<MetricsEndpoint> e(new MetricsEndpoint());
  e->http_ = std::make_unique<httplib::Server>();
  // httplib's default options add SO_REUSEPORT, with which a second rp-sim would share a busy
  // port silently (and Prometheus would scrape either); SO_REUSEADDR alone refuses it.
  e->http_->set_socket_options([](socket_t sock) {
    int yes = 1;
    setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof yes);
  });
  e->http_->set_read_timeout(5, 0);  // A stuck scraper never holds a thread for long.
  e->http_->set_write_timeout(5, 0);
  e->http_->new_task_queue = [] { return new httplib::ThreadPool(2); };  // Scrapes are rare.
  e->http_->Get("/metrics", [metrics](const httplib::Request&, httplib::Response& res) {
    res.set_content(metrics->Render(), "text/plain; version=0.0.4");
  });
  const int bound =
      port == 0
          ? e->http_->bind_to_any_port(host)
          : (e->http_->bind_to_port(host, static_cast<int>(port)) ? static_cast<int>(port) : -1);
  if (bound <= 0) {
    return Status(Error::kBindFailed, "--metrics-listen " + listen + ": cannot listen on " + host +
                                          ":" + port_text +
                                          " (in use, or not an address "
                                          "of this machine)");
  }
  e->url_ = "http://" + host + ":" + std::to_string(bound) + "/metrics";
  httplib::Server* server = e->http_.get();
  e->thread_ = std::thread([server] { server->listen_after_bind(); });
  // httplib's stop() does nothing before the listen loop runs, so a destructor right after
  // Start would join forever: wait (bounded) until it runs.
  for (int i = 0; i < 5000 && !server->is_running(); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  return e;
}

MetricsEndpoint::~MetricsEndpoint() {
  http_->stop();
  if (thread_.joinable()) thread_.join();
}

}  // namespace rp::sim
