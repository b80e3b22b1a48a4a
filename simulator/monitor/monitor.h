// Background work beside the load, on its own threads so neither can stall the load engine:
//   MetricsScraper — GETs every instance's /metrics once a second and keeps, per scrape, the sum
//     over labels and instances of the series that show contention and money health
//     (server_metrics.csv). Instances are scraped directly, not through the proxy, which would
//     answer from a different one each time.
//   FaultTimeline — applies the scenario's faults at their times to the SystemUnderTest and
//     records when each started and finished (faults.csv).
// Both stop on Stop() (or destruction) within about one interval; their records are read after.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "simulator/scenario/scenario.h"
#include "simulator/system/system.h"

namespace rp::sim {

struct MetricsRow {
  double elapsed_s = 0;
  bool up = false;             // At least one instance answered.
  int instances_up = 0;        // How many answered.
  std::vector<double> values;  // One per MetricsScraper::Columns(), summed over labels.
};

class MetricsScraper {
 public:
  // The series always kept (the first columns of server_metrics.csv).
  static const std::vector<std::string>& Columns();

  // extra_series: more series to keep after Columns() (those a scenario's checks name).
  MetricsScraper(std::string host, std::vector<int> ports, int64_t start_ns,
                 int64_t interval_ms = 1000, std::vector<std::string> extra_series = {});
  ~MetricsScraper() { Stop(); }
  void Stop();
  // Columns() then the extra series: the names of every row's values.
  const std::vector<std::string>& columns() const { return columns_; }
  // Call after Stop().
  const std::vector<MetricsRow>& rows() const { return rows_; }
  // A copy of the rows so far; thread-safe, for checks evaluated during the run.
  std::vector<MetricsRow> Snapshot() const;

 private:
  void Loop();
  std::string host_;
  std::vector<int> ports_;
  int64_t start_ns_;
  int64_t interval_ms_;
  std::vector<std::string> columns_;
  std::vector<MetricsRow> rows_;  // Appended under mu_.
  mutable std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;
  std::thread thread_;
};

// The names a server's /metrics declares (# TYPE lines) or samples, from one GET; Unavailable
// when it does not answer. Checks on server series are validated against it before the load.
Result<std::vector<std::string>> ExposedSeries(const std::string& host, int port);

struct FaultRecord {
  double planned_s = 0;
  double started_s = 0;
  double ended_s = 0;
  std::string action;
  std::string detail;  // What was done, or why it failed.
  bool ok = false;
};

class FaultTimeline {
 public:
  // system may be null (a --target run): faults are then recorded as not applied.
  FaultTimeline(std::vector<Fault> faults, SystemUnderTest* system, int64_t start_ns);
  ~FaultTimeline() { Stop(); }
  void Stop();
  const std::vector<FaultRecord>& records() const { return records_; }

 private:
  void Loop();
  std::vector<Fault> faults_;
  SystemUnderTest* system_;
  int64_t start_ns_;
  std::vector<FaultRecord> records_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;
  std::thread thread_;
};

}  // namespace rp::sim
