#include "dashboard/run_data.h"

#include "common/axis_ticks.h"
#include "common/ledger_engines.h"
#include "common/results/results_format.h"
#include "common/results/run_summary.h"

#include <algorithm>
#include <cmath>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

namespace rp::dash {
namespace {

using nlohmann::json;

Status LoadTimeseries(const std::string& path, RunData& d) {
  Result<std::vector<results::TimeseriesRow>> rows = results::ReadTimeseries(path);
  if (!rows.ok()) return rows.status();
  std::map<int64_t, double> offered, dropped;
  for (const results::TimeseriesRow& r : *rows) {
    const double t = static_cast<double>(r.second) + 0.5;  // The middle of its second.
    if (r.op == results::kOfferedArrival) offered[r.second] += static_cast<double>(r.requests);
    if (r.op == results::kDroppedArrival) dropped[r.second] += static_cast<double>(r.requests);
    if (results::IsArrivalRow(r.op)) continue;  // Arrivals, not requests: the load chart.
    d.Series(Chart::kThroughput, r.op).push_back({t, static_cast<double>(r.requests)});
    if (r.op == "poll") continue;
    d.Series(Chart::kLatency, r.op + " p50").push_back({t, r.p50_ms});
    d.Series(Chart::kLatency, r.op + " p99").push_back({t, r.p99_ms});
    const std::pair<const char*, int64_t> codes[] = {{"status_409", r.status_409},
                                                     {"status_410", r.status_410},
                                                     {"status_4xx_other", r.status_4xx_other},
                                                     {"status_5xx", r.status_5xx},
                                                     {"transport_errors", r.transport_errors}};
    for (const auto& [code, n] : codes) {
      if (n > 0) d.Series(Chart::kErrors, std::string(code) + " " + r.op).push_back({t, double(n)});
    }
  }
  // Achieved = offered - dropped, in every second the generator offered anything (a second
  // with arrivals all dropped is a zero, not a gap). Folders from before offered_arrival rows
  // existed have no achieved line; their drops are still drawn.
  for (const auto& [second, n] : offered) {
    const double lost = dropped.count(second) ? dropped[second] : 0;
    d.Series(Chart::kLoad, kStartedSeries).push_back({second + 0.5, n - lost});
  }
  for (const auto& [second, n] : dropped) {
    d.Series(Chart::kLoad, kDroppedSeries).push_back({second + 0.5, n});
  }
  return Status::Ok();
}

// Counters in server_metrics.csv become per-second rates; gauges are drawn as they are.
Status LoadServerMetrics(const std::string& path, RunData& d) {
  Result<results::ServerMetricsTable> table = results::ReadServerMetrics(path);
  if (!table.ok()) return table.status();
  auto breakers = std::find(table->metrics.begin(), table->metrics.end(), "rp_breakers_open");
  bool band_open = false;
  const std::vector<std::string>& cols = table->metrics;
  std::map<std::string, std::pair<double, double>> last;
  for (const results::ServerMetricsTable::Row& row : table->rows) {
    if (!row.up) continue;  // Server down: a gap, not zeros.
    const double t = row.elapsed_s;
    if (breakers != table->metrics.end()) {
      TrackBreakers(d, t, row.values[static_cast<size_t>(breakers - table->metrics.begin())],
                    &band_open);
    }
    for (const ServerPlot& p : ServerPlots()) {
      auto col = std::find(cols.begin(), cols.end(), p.metric);
      if (col == cols.end()) continue;  // An older results folder without this column.
      const double v = row.values[static_cast<size_t>(col - cols.begin())];
      if (!p.rate) {
        d.Series(p.chart, p.series).push_back({t, v});
        continue;
      }
      auto it = last.find(p.metric);
      if (it != last.end() && t > it->second.first) {
        const double delta = v >= it->second.second ? v - it->second.second : v;
        d.Series(p.chart, p.series).push_back({t, delta / (t - it->second.first)});
      }
      last[p.metric] = {t, v};
    }
  }
  return Status::Ok();
}

// A fault shades from its start to its recovery (redis_stop -> redis_start, mock_switch ->
// mock_reset) or, for instant ones (kill -9 and restart), over what it took, at least 1 s.
Status LoadFaults(const std::string& path, RunData& d) {
  Result<std::vector<results::FaultRow>> rows = results::ReadFaults(path);
  if (!rows.ok()) return rows.status();
  std::vector<FaultSpan> open;
  for (const results::FaultRow& f : *rows) {
    const std::string& action = f.action;
    const std::string closes = action == "redis_start"  ? "redis_stop"
                               : action == "mock_reset" ? "mock_switch"
                                                        : "";
    if (!closes.empty()) {
      for (auto it = open.begin(); it != open.end();) {
        if (it->label == closes) {
          d.faults.push_back({it->start_s, f.ended_s, closes + " … " + action});
          it = open.erase(it);
        } else {
          ++it;
        }
      }
      continue;
    }
    if (action == "redis_stop" || action == "mock_switch") {
      open.push_back({f.started_s, 0, action});
    } else {
      d.faults.push_back({f.started_s, std::max(f.ended_s, f.started_s + 1.0), action});
    }
  }
  double last_t = 0;
  for (const auto& [chart, series] : d.charts) {
    for (const auto& [name, points] : series) {
      if (!points.empty()) last_t = std::max(last_t, points.back().t_s);
    }
  }
  for (const FaultSpan& f : open)
    d.faults.push_back({f.start_s, last_t, f.label + " (never undone)"});
  return Status::Ok();
}

void ReadSummary(const results::RunSummary& s, RunData& d);

// A summary.json from anywhere, read through the one summary struct: a field of the wrong type
// (a list where a flag belongs) is bad_results naming the file and the field's complaint, never
// an exception out of rp-dash.
Status LoadSummary(const std::string& path, RunData& d) {
  std::ifstream in(path);
  if (!in) return Status(Error::kBadResults, path + ": missing");
  const json s = json::parse(in, nullptr, false);
  if (s.is_discarded() || !s.is_object() || !s.contains("scenario") || !s.contains("system") ||
      !s["system"].is_object()) {
    return Status(Error::kBadResults, path + ": not an rp-sim summary");
  }
  Result<results::RunSummary> summary = results::FromJson(s);
  if (!summary.ok()) {
    return Status(Error::kBadResults,
                  path + ": not an rp-sim summary (" + summary.status().message() + ")");
  }
  ReadSummary(*summary, d);
  return Status::Ok();
}

// Summaries from before the ledger and the instance count were written read as one instance
// on SQLite (the struct's defaults).
void ReadSummary(const results::RunSummary& s, RunData& d) {
  int passed = 0;
  for (const results::SummaryCheck& c : s.checks) passed += c.passed ? 1 : 0;
  for (const results::SummaryPhase& p : s.phases) {
    d.phases.push_back({p.start_s, p.end_s, "phase " + p.name});
  }
  const std::vector<double>& planned = s.load.planned_arrivals_per_s;
  for (size_t sec = 0; sec < planned.size(); ++sec) {
    d.Series(Chart::kLoad, kPlannedSeries).push_back({sec + 0.5, planned[sec]});
  }
  d.label = s.system.claim_scheme;
  const std::string system =
      results::DescribeSystem(s.system.ledger, s.system.instances, s.system.started_by_rp_sim);
  d.header = s.scenario + " · " + d.label + " · " + system + " · seed " + std::to_string(s.seed) +
             " · checks " + std::to_string(passed) + "/" + std::to_string(s.checks.size()) +
             " passed · " + "verification " + (s.verification.ok ? "ok" : "FAILED") + " · " +
             (s.passed ? "PASSED" : "FAILED");
}

}  // namespace

void TrackBreakers(RunData& d, double t_s, double breakers_open, bool* band_open) {
  if (breakers_open <= 0) {
    *band_open = false;
    return;
  }
  if (*band_open && !d.breakers_open.empty()) {
    d.breakers_open.back().end_s = t_s;
    return;
  }
  // A band is at least a second wide, so a breaker open for one scrape is still visible.
  d.breakers_open.push_back({t_s, t_s + 1.0, "breaker open"});
  *band_open = true;
}

const char* ChartTitle(Chart chart) {
  switch (chart) {
    case Chart::kLoad:
      return "Load: planned arrivals/s, journeys started/s, arrivals dropped/s";
    case Chart::kThroughput:
      return "Requests per second, per operation";
    case Chart::kLatency:
      return "Latency (ms) per operation, from each request's intended start";
    case Chart::kErrors:
      return "Rejections and errors per second, by code";
    case Chart::kContention:
      return "Lock contention: waiters, wait s/s, DB busy retries/s";
    case Chart::kQueue:
      return "Queues: async task lag (s), writer queue, stream backlog";
    case Chart::kStability:
      return "Stability: rate-limit 429s/s, degraded answers/s, breakers open";
    case Chart::kDrift:
      return "Reconciliation drift (cents) and open discrepancies";
  }
  return "";
}

const std::vector<ServerPlot>& ServerPlots() {
  static const std::vector<ServerPlot> plots = {
      {"rp_lock_waiters", Chart::kContention, "lock waiters", false},
      {"rp_lock_wait_seconds_total", Chart::kContention, "lock wait s/s", true},
      {"rp_db_busy_retries_total", Chart::kContention, "DB busy retries/s", true},
      {"rp_scheme_fallbacks_total", Chart::kContention, "scheme fallbacks/s", true},
      {"rp_queue_lag_seconds", Chart::kQueue, "task queue lag s", false},
      {"rp_ledger_queue_depth", Chart::kQueue, "ledger writer queue", false},
      {"rp_stream_backlog", Chart::kQueue, "stream backlog", false},
      {"recon_drift_cents", Chart::kDrift, "drift cents", false},
      {"recon_discrepancies", Chart::kDrift, "open discrepancies", false},
      {"rp_limit_refused_total", Chart::kStability, "rate-limit 429s/s", true},
      {"rp_limit_shadow_refused_total", Chart::kStability, "shadow refusals/s", true},
      {"rp_degraded_answers_total", Chart::kStability, "degraded answers/s", true},
      {"rp_breakers_open", Chart::kStability, "breakers open", false},
      {"rp_feature_degraded", Chart::kStability, "features degraded", false},
  };
  return plots;
}

NiceAxis NiceAxisFor(double value_max, int ticks_max) {
  NiceAxis a;
  if (!(value_max > 0) || !std::isfinite(value_max)) return a;  // 0..1 in steps of 1.
  const double step = NiceStep(value_max, ticks_max);
  a.step = step;
  a.max = std::ceil(value_max / step - 1e-9) * step;
  a.decimals = step >= 1 ? 0 : static_cast<int>(std::ceil(-std::log10(step) - 1e-9));
  return a;
}

std::string SeriesOperation(Chart chart, const std::string& series) {
  switch (chart) {
    case Chart::kThroughput:
      return series;  // "claim", or a route live.
    case Chart::kLatency: {
      const size_t space = series.rfind(' ');  // "claim p99"
      return space == std::string::npos ? series : series.substr(0, space);
    }
    default:  // Errors are told apart by code ("status_409 claim"), not by operation.
      return "";
  }
}

size_t RunData::PointCount() const {
  size_t n = 0;
  for (const auto& [chart, series] : charts) {
    for (const auto& [name, points] : series) n += points.size();
  }
  return n;
}

Result<RunData> LoadRunFolder(const std::string& dir) {
  RunData d;
  if (Status s = LoadSummary(dir + "/" + results::kSummaryFile, d); !s.ok()) return s;
  if (Status s = LoadTimeseries(dir + "/" + results::kTimeseriesFile, d); !s.ok()) return s;
  if (Status s = LoadServerMetrics(dir + "/" + results::kServerMetricsFile, d); !s.ok()) return s;
  if (Status s = LoadFaults(dir + "/" + results::kFaultsFile, d); !s.ok()) return s;
  if (d.PointCount() == 0) return Status(Error::kBadResults, dir + ": no data points");
  return d;
}

}  // namespace rp::dash
