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
#include <optional>
#include <string>
#include <vector>

#include "common/results/run_summary.h"
#include "common/status.h"
#include "simulator/checks/evaluate.h"
#include "simulator/engine/load_engine.h"
#include "simulator/monitor/monitor.h"
#include "simulator/scenario/scenario.h"
#include "simulator/verify/verify.h"

namespace rp::sim {

// rp-sim --exact: what callgrind counted on rp-server's claim path during a fixed slice of
// claim requests (simulator/run/exact.h), the same for the same binary, input and seed.
struct ExactFigures {
  std::string tool = "callgrind";
  std::string valgrind_version;  // `valgrind --version`, e.g. "valgrind-3.19.0".
  uint64_t instructions = 0;     // Ir over the slice: the claim path's functions only.
  int64_t claims_won = 0;        // Claims answered 201.
  int64_t claim_requests = 0;    // Claims sent.
};

struct RunReport {
  const Scenario* scenario = nullptr;
  std::string target;          // The server URL.
  bool system_started = true;  // false with --target: scheme, ledger, instances unknown.
  // rp-server's settings as its loader resolved them (SystemUnderTest::server_settings), when
  // rp-sim started it; empty otherwise.
  nlohmann::json server_settings = nlohmann::json::object();
  std::string started_at;            // RFC 3339 UTC.
  int64_t load_started_unix_ms = 0;  // Wall clock at the load's second 0 (the CSVs' `time`).
  // Same run, same machine: how fast /healthz was answered, sampled before the load and after
  // the verification (the report's ceiling is their median).
  std::vector<double> healthz_ceiling_samples_rps;
  std::vector<double> healthz_cpu_us_per_request;  // rp-server's CPU per /healthz, per sample.
  nlohmann::json cost;  // CostJson: CPU time and work per claim won over the load.
  const LoadOutcome* load = nullptr;
  const VerificationReport* verification = nullptr;
  std::vector<FaultRecord> faults;
  std::vector<MetricsRow> server_metrics;
  std::vector<std::string> server_columns;  // Names of server_metrics' values.
  std::vector<CheckResult> checks;
  std::optional<ExactFigures> exact;  // Only with --exact.
  bool passed = false;                // Verification ok and every check passed.
};

// summary.json's content (common/results/run_summary.h), and its text form.
results::RunSummary Summary(const RunReport& report);
nlohmann::json SummaryJson(const RunReport& report);

// One line on the requests that got no answer, from a summary's "unanswered": "unanswered: 536
// of 6120 requests (claim 536; timeout 536); sent in phase steady: 536; ...". "" for a summary
// written before rp-sim counted them.
std::string UnansweredText(const nlohmann::json& summary);

// Writes the five files into dir (created). Internal on an I/O error.
Status WriteResults(const std::string& dir, const RunReport& report);

}  // namespace rp::sim
