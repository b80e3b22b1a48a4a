// The results folder of one rp-sim run — its files, their columns and how they are written and
// read — defined once, for rp-sim (which writes it) and rp-dash (which draws it). docs/scenarios.md
// describes it for users.
//   summary.json        everything about the run, machine-readable (compare, regress, rp-dash)
//   timeseries.csv      one row per second and operation: requests, errors, statuses, latency
//   server_metrics.csv  the server's /metrics, scraped every second
//   faults.csv          each fault: planned and actual time, what was done, whether it applied
//   report.md           a report readable on its own
// Pure functions and plain data; thread-compatible.
#pragma once

#include <cstdint>
#include <iosfwd>
#include <string>
#include <vector>

#include "common/status.h"

namespace rp::results {

inline constexpr const char* kSummaryFile = "summary.json";
inline constexpr const char* kTimeseriesFile = "timeseries.csv";
inline constexpr const char* kServerMetricsFile = "server_metrics.csv";
inline constexpr const char* kFaultsFile = "faults.csv";
inline constexpr const char* kReportFile = "report.md";
inline constexpr const char* kDashboardFile = "dashboard.png";
// One JSON object per money-moving request: op, invoked_ms, completed_ms, outcome (ok | failed
// | unknown), status, user_id and, where known, packet_id, claim_id, amount_cents.
inline constexpr const char* kHistoryFile = "history.jsonl";

// "postgres × 2 instances" from summary.json's `system` object; "the target's own system" for
// a --target run; "sqlite × 1 instance" for summaries from before either key existed.
std::string DescribeSystem(const std::string& ledger, int instances, bool started_by_rp_sim);

// The operation name under which arrivals the load could not start are counted.
inline constexpr const char* kDroppedArrival = "dropped_arrival";
// The operation name under which the arrivals the load model offered are counted (started or
// dropped; the open model only).
inline constexpr const char* kOfferedArrival = "offered_arrival";
// True for the two pseudo-operations above, which count arrivals, not requests.
inline bool IsArrivalRow(const std::string& op) {
  return op == kDroppedArrival || op == kOfferedArrival;
}

struct TimeseriesRow {
  int64_t second = 0;  // Since the load started.
  std::string op;
  int64_t requests = 0, errors = 0;
  int64_t status_200 = 0, status_201 = 0, status_409 = 0, status_410 = 0;
  int64_t status_4xx_other = 0, status_5xx = 0, transport_errors = 0;
  double p50_ms = 0, p90_ms = 0, p99_ms = 0, max_ms = 0;
};

struct FaultRow {
  double planned_s = 0, started_s = 0, ended_s = 0;
  std::string action;
  bool ok = false;  // The fault applied.
  std::string detail;
};

// server_metrics.csv: elapsed_s, up (how many server instances answered the scrape; 0: none),
// then one column per metric (summed over its labels and the instances).
struct ServerMetricsTable {
  std::vector<std::string> metrics;  // Column names after elapsed_s and up.
  struct Row {
    double elapsed_s = 0;
    int up = 0;                  // Instances that answered; nonzero means the system was up.
    std::vector<double> values;  // One per metric.
  };
  std::vector<Row> rows;
};

// RFC 3339 UTC with milliseconds ("2026-12-02T19:30:01.250Z") of a Unix time in ms.
std::string UtcTime(int64_t unix_ms);

// Writers. load_start_unix_ms is the wall-clock time of the load's second 0: every row also
// carries its wall-clock time (column `time`, RFC 3339 UTC), so the files join with anything
// else timestamped (Prometheus, server logs); the relative seconds stay beside it.
void WriteTimeseries(std::ostream& out, const std::vector<TimeseriesRow>& rows,
                     int64_t load_start_unix_ms);
void WriteFaults(std::ostream& out, const std::vector<FaultRow>& rows, int64_t load_start_unix_ms);
void WriteServerMetrics(std::ostream& out, const ServerMetricsTable& table,
                        int64_t load_start_unix_ms);

// Readers: bad_results naming file:line (and the column) for a missing file, a short row, a
// missing column or a cell that is not a number. Columns a reader does not know are ignored;
// metrics columns an older folder lacks are simply absent from the table.
Result<std::vector<TimeseriesRow>> ReadTimeseries(const std::string& path);
Result<std::vector<FaultRow>> ReadFaults(const std::string& path);
Result<ServerMetricsTable> ReadServerMetrics(const std::string& path);

}  // namespace rp::results
