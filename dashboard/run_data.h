// RunData: what rp-dash draws, independent of Qt — time series on one time axis (seconds since
// the load started), the fault periods to shade, and the run's header. Filled either from a
// results folder written by rp-sim (LoadRunFolder) or live from a server's /metrics
// (LiveMetrics). Plain data; thread-compatible.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "common/prometheus_text.h"
#include "common/status.h"

namespace rp::dash {

struct Point {
  double t_s = 0;
  double value = 0;
};

// The charts, in display order. Each holds named series, e.g. "claim p99" or "lock waiters".
enum class Chart { kThroughput, kLatency, kErrors, kContention, kQueue, kDrift, kStability };
constexpr int kChartCount = 7;
const char* ChartTitle(Chart chart);

struct FaultSpan {
  double start_s = 0;
  double end_s = 0;
  std::string label;
};

struct RunData {
  std::string label;  // Legend suffix when runs are overlaid, e.g. the claim scheme.
  // "spring_festival · batched · postgres × 2 instances · seed 2027 · checks 7/7 passed".
  std::string header;
  std::map<Chart, std::map<std::string, std::vector<Point>>> charts;
  std::vector<FaultSpan> faults;
  // Periods with at least one downstream circuit breaker open (rp_breakers_open > 0), shaded
  // like faults in another colour.
  std::vector<FaultSpan> breakers_open;

  std::vector<Point>& Series(Chart chart, const std::string& name) { return charts[chart][name]; }
  size_t PointCount() const;
};

// Reads dir/summary.json, timeseries.csv, server_metrics.csv and faults.csv (as rp-sim writes
// them; docs/scenarios.md). InvalidArgument naming the file (and line) when one is missing,
// partial or malformed; a run without faults or checks is fine.
Result<RunData> LoadRunFolder(const std::string& dir);

// Extends or opens the breaker band at t_s when breakers_open > 0 (closes it otherwise).
void TrackBreakers(RunData& d, double t_s, double breakers_open, bool* band_open);

// Live mode: turns successive /metrics scrapes into chart points (counters become rates).
// Not thread-safe; one owner.
class LiveMetrics {
 public:
  // Adds one scrape taken at t_s. InvalidArgument if the text does not parse (nothing added).
  Status AddScrape(double t_s, const std::string& metrics_text);
  // The server did not answer at t_s: drawn as a gap in the "up" series.
  void AddDown(double t_s);
  const RunData& data() const { return data_; }
  RunData& data() { return data_; }

 private:
  double Rate(const std::string& key, double value, double t_s);
  std::map<std::string, std::pair<double, double>> last_;  // key -> (t_s, counter value)
  bool breaker_band_open_ = false;
  RunData data_;
};

}  // namespace rp::dash
