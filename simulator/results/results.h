// Results of one run: the summary (totals, percentiles, the server's contention counters, the
// verification and the checks) and the files of a results folder —
//   summary.json        everything below, machine-readable (compare/regress/rp-dash read it)
//   timeseries.csv      second, op, requests, errors, per-status counts, p50/p90/p99/max ms
//   server_metrics.csv  the server's /metrics, scraped every second (MetricsScraper::Columns)
//   faults.csv          each fault: planned and actual time, what was done
//   report.md           a Markdown report readable on its own
// Pure data and file writing; no network.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "common/status.h"
#include "simulator/engine/load_engine.h"
#include "simulator/monitor/monitor.h"
#include "simulator/scenario/scenario.h"
#include "simulator/verify/verify.h"

namespace rp::sim {

struct CheckResult {
  std::string check;
  bool passed = false;
  double actual = 0;
  std::string detail;  // e.g. "p99(claim) = 61.2 ms, limit 50 ms (22% over)".
};

struct RunReport {
  const Scenario* scenario = nullptr;
  std::string target;              // The server URL.
  bool system_started = true;      // false with --target: scheme, ledger, instances unknown.
  std::string started_at;          // RFC 3339 UTC.
  double healthz_ceiling_rps = 0;  // Same run, same machine: the normaliser for regressions.
  const LoadOutcome* load = nullptr;
  const VerificationReport* verification = nullptr;
  std::vector<FaultRecord> faults;
  std::vector<MetricsRow> server_metrics;
  std::vector<CheckResult> checks;
  bool passed = false;  // Verification ok and every check passed.
};

// Evaluates the scenario's checks against the load, the verification and the server's figures
// scraped during the run (the server.* checks).
std::vector<CheckResult> EvaluateChecks(const Scenario& scenario, const LoadOutcome& load,
                                        const VerificationReport& verification,
                                        const std::vector<MetricsRow>& server_metrics = {});

// summary.json's content.
nlohmann::json SummaryJson(const RunReport& report);

// Writes the five files into dir (created). Internal on an I/O error.
Status WriteResults(const std::string& dir, const RunReport& report);

// The increase of a counter over the run from scraped rows, tolerating restarts (a counter that
// drops restarted from zero).
double CounterIncrease(const std::vector<MetricsRow>& rows, size_t column);

}  // namespace rp::sim
