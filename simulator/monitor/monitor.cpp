#include "simulator/monitor/monitor.h"

#include <httplib.h>

#include <algorithm>
#include <chrono>
#include <memory>
#include <set>
#include <sstream>

#include "common/clock.h"
#include "common/prometheus_text.h"

namespace rp::sim {
namespace {

double ElapsedS(int64_t start_ns) {
  return static_cast<double>(MonotonicNs() - start_ns) / 1e9;
}

std::chrono::steady_clock::time_point At(int64_t ns) {
  return std::chrono::steady_clock::time_point(std::chrono::nanoseconds(ns));
}

}  // namespace

const std::vector<std::string>& MetricsScraper::Columns() {
  static const std::vector<std::string> kColumns = {"rp_claims_total",
                                                    "rp_ledger_claim_commits_total",
                                                    "rp_ledger_commits_total",
                                                    "rp_lock_waiters",
                                                    "rp_lock_wait_seconds_total",
                                                    "rp_db_busy_retries_total",
                                                    "rp_ledger_queue_depth",
                                                    "rp_queue_lag_seconds",
                                                    "rp_async_task_retries_total",
                                                    "rp_stuck_orders",
                                                    "rp_scheme_fallbacks_total",
                                                    "rp_redis_errors_total",
                                                    "rp_stream_backlog",
                                                    "rp_limit_refused_total",
                                                    "rp_limit_shadow_refused_total",
                                                    "rp_breakers_open",
                                                    "rp_degraded_answers_total",
                                                    "rp_feature_degraded",
                                                    "recon_drift_cents",
                                                    "recon_discrepancies"};
  return kColumns;
}

MetricsScraper::MetricsScraper(std::string host, std::vector<int> ports, int64_t start_ns,
                               int64_t interval_ms, std::vector<std::string> extra_series)
    : host_(std::move(host)),
      ports_(std::move(ports)),
      start_ns_(start_ns),
      interval_ms_(interval_ms),
      columns_(Columns()) {
  for (std::string& name : extra_series) {
    if (std::find(columns_.begin(), columns_.end(), name) == columns_.end()) {
      columns_.push_back(std::move(name));
    }
  }
  thread_ = std::thread([this] { Loop(); });
}

void MetricsScraper::Stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void MetricsScraper::Loop() {
  std::vector<std::unique_ptr<httplib::Client>> clients;
  for (int port : ports_) {
    clients.push_back(std::make_unique<httplib::Client>(host_, port));
    clients.back()->set_connection_timeout(0, 500'000);
    clients.back()->set_read_timeout(1, 0);
  }
  for (int64_t tick = 0;; ++tick) {  // Tick 0: the counters before the load.
    {
      std::unique_lock<std::mutex> lock(mu_);
      if (cv_.wait_until(lock, At(start_ns_ + tick * interval_ms_ * 1'000'000),
                         [this] { return stop_; })) {
        return;
      }
    }
    MetricsRow row;
    row.elapsed_s = ElapsedS(start_ns_);
    row.values.assign(columns_.size(), 0);
    for (auto& client : clients) {
      auto r = client->Get("/metrics");
      if (!r || r->status != 200) continue;
      auto samples = prom::ParseText(r->body);
      if (!samples.ok()) continue;
      ++row.instances_up;
      for (size_t i = 0; i < columns_.size(); ++i) {
        row.values[i] += prom::Sum(*samples, columns_[i]);
      }
    }
    row.up = row.instances_up > 0;
    std::lock_guard<std::mutex> lock(mu_);
    rows_.push_back(std::move(row));
  }
}

std::vector<MetricsRow> MetricsScraper::Snapshot() const {
  std::lock_guard<std::mutex> lock(mu_);
  return rows_;
}

Result<std::vector<std::string>> ExposedSeries(const std::string& host, int port) {
  httplib::Client client(host, port);
  client.set_connection_timeout(2, 0);
  client.set_read_timeout(5, 0);
  auto r = client.Get("/metrics");
  if (!r || r->status != 200) {
    return Status(Error::kServiceUnreachable,
                  "GET /metrics on " + host + ":" + std::to_string(port) + " did not answer 200");
  }
  std::set<std::string> names;
  std::istringstream lines(r->body);
  for (std::string line; std::getline(lines, line);) {
    if (line.rfind("# TYPE ", 0) == 0) {
      names.insert(line.substr(7, line.find(' ', 7) - 7));
    } else if (!line.empty() && line[0] != '#') {
      names.insert(line.substr(0, line.find_first_of("{ ")));
    }
  }
  return std::vector<std::string>(names.begin(), names.end());
}

FaultTimeline::FaultTimeline(std::vector<Fault> faults, SystemUnderTest* system, int64_t start_ns)
    : faults_(std::move(faults)), system_(system), start_ns_(start_ns) {
  thread_ = std::thread([this] { Loop(); });
}

void FaultTimeline::Stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void FaultTimeline::Loop() {
  for (const Fault& f : faults_) {
    {
      std::unique_lock<std::mutex> lock(mu_);
      const int64_t due_ns = start_ns_ + static_cast<int64_t>(f.at_s * 1e9);
      if (cv_.wait_until(lock, At(due_ns), [this] { return stop_; })) return;
    }
    FaultRecord rec;
    rec.planned_s = f.at_s;
    rec.action = Name(f.action);
    rec.started_s = ElapsedS(start_ns_);
    if (system_ == nullptr) {
      rec.detail = "not applied: rp-sim drives an external --target";
    } else {
      Result<std::string> done = system_->Apply(f);
      rec.ok = done.ok();
      rec.detail = done.ok() ? *done : done.status().ToString();
    }
    rec.ended_s = ElapsedS(start_ns_);
    records_.push_back(std::move(rec));
  }
}

}  // namespace rp::sim
