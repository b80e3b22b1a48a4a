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
enum class Chart { kLoad, kThroughput, kLatency, kErrors, kContention, kQueue, kDrift, kStability };
constexpr int kChartCount = 8;
const char* ChartTitle(Chart chart);

// The load chart's series: the plan's arrival rate (target), the journeys the simulator
// started (achieved) and the arrivals it dropped.
inline constexpr const char* kPlannedSeries = "planned arrivals/s (target)";
inline constexpr const char* kStartedSeries = "journeys started/s (achieved)";
inline constexpr const char* kDroppedSeries = "arrivals dropped/s";

// A value axis on round numbers: ticks every `step` (1, 2 or 5 x 10^k) from 0 to `max`, the
// first multiple of step at or above the largest value, with about `ticks_max` ticks at most.
struct NiceAxis {
  double max = 1;
  double step = 1;
  int decimals = 0;  // Enough to tell two ticks apart.
};
NiceAxis NiceAxisFor(double value_max, int ticks_max = 6);

// The operation a series is about ("claim p99" -> "claim"), so each operation keeps one colour
// on the throughput and latency charts; empty for series that are about no operation.
std::string SeriesOperation(Chart chart, const std::string& series);

// A server series and where it is drawn, whatever the source (server_metrics.csv, a live
// scrape, Prometheus): gauges as they are, counters (rate) as per-second rates.
struct ServerPlot {
  const char* metric;  // e.g. "rp_lock_waiters"
  Chart chart;
  const char* series;  // The legend name, e.g. "lock waiters".
  bool rate;
};
const std::vector<ServerPlot>& ServerPlots();

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
  // The scenario's load phases (from summary.json), shaded beside the faults.
  std::vector<FaultSpan> phases;
  // What the time axis counts from: a replay, a live scrape or a Prometheus window.
  std::string time_axis = "seconds since the load started (replay of a finished run)";

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
  // Histogram buckets (le -> cumulative count), summed over the other labels.
  using Buckets = std::map<double, double>;
  // Adds one scrape taken at t_s: the /metrics text of one or more processes, concatenated
  // (rp-server instances and rp-sim --metrics-listen; counters of one name are summed). The
  // scrapes of /metrics itself are left out of every chart. When rp-sim's series are there,
  // latency is rp-sim's (from each request's intended start, by operation), else the server's
  // (by route). InvalidArgument if the text does not parse (nothing added).
  Status AddScrape(double t_s, const std::string& metrics_text);
  // The server did not answer at t_s: drawn as a gap in the "up" series.
  void AddDown(double t_s);
  const RunData& data() const { return data_; }
  RunData& data() { return data_; }

 private:
  double Rate(const std::string& key, double value, double t_s);
  // p50 and p99 of the last interval per name (a route or an operation).
  void AddLatencies(double t_s, const std::map<std::string, Buckets>& by_name,
                    const std::string& key_prefix);
  std::map<std::string, std::pair<double, double>> last_;  // key -> (t_s, counter value)
  bool breaker_band_open_ = false;
  RunData data_;
};

}  // namespace rp::dash
