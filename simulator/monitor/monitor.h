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
  // The series kept (column order of server_metrics.csv).
  static const std::vector<std::string>& Columns();

  MetricsScraper(std::string host, std::vector<int> ports, int64_t start_ns,
                 int64_t interval_ms = 1000);
  ~MetricsScraper() { Stop(); }
  void Stop();
  // Call after Stop().
  const std::vector<MetricsRow>& rows() const { return rows_; }

 private:
  void Loop();
  std::string host_;
  std::vector<int> ports_;
  int64_t start_ns_;
  int64_t interval_ms_;
  std::vector<MetricsRow> rows_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;
  std::thread thread_;
};

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
