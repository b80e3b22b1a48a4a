// Evaluating a scenario's checks: after the run against everything it measured, and during the
// run (the abort_on_fail checks) against what has been measured so far. Pure functions over the
// inputs; thread-compatible (the caller owns the inputs for the call).
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "simulator/monitor/monitor.h"
#include "simulator/scenario/check.h"
#include "simulator/scenario/scenario.h"
#include "simulator/stats/run_stats.h"
#include "simulator/verify/verify.h"

namespace rp::sim {

struct CheckResult {
  std::string check;
  bool passed = false;
  double actual = 0;   // In the unit the limit was written in.
  std::string detail;  // e.g. "p99(claim) = 61.20 ms, limit < 50.00 ms (off by 22%)".
  // "scenario": one of the scenario's checks; "plan": rp-sim's own (the load and faults happened).
  std::string kind = "scenario";
};

// What a check can be evaluated against. Pointers are borrowed for the call; verification may
// be null during the run (recon checks are then not evaluable).
struct CheckInputs {
  const Scenario* scenario = nullptr;
  const RunStats* stats = nullptr;
  double load_seconds = 0;  // How long the load ran (the whole plan, or until an abort).
  const VerificationReport* verification = nullptr;
  const std::vector<MetricsRow>* server_rows = nullptr;
  const std::vector<std::string>* server_columns = nullptr;  // Names of MetricsRow::values.
};

// One check's verdict. nullopt when there is nothing to judge yet (no request of the operation,
// the phase not started, nothing scraped): after the run the caller reports that as a failure.
std::optional<CheckResult> EvaluateCheck(const CheckSpec& check, const CheckInputs& in,
                                         std::string* why_not = nullptr);

// Every check of the scenario; one with nothing to judge fails, saying why.
std::vector<CheckResult> EvaluateChecks(const CheckInputs& in);

// The first abort_on_fail check that fails now (elapsed_s into the load, past its delay), as its
// result; nullopt when the run may go on.
std::optional<CheckResult> FirstAbortingCheck(const CheckInputs& in, double elapsed_s);

// The server series the checks name, to be scraped beside MetricsScraper's own columns.
std::vector<std::string> SeriesNamedByChecks(const Scenario& scenario);

// The end (whole seconds from the load's start) of the busiest stretch of the plan: the phase
// with the highest arrival rate, or a spike's end.
int64_t BusiestEndS(const Scenario& scenario);

// The summary's "server" figures over the run (claim attempts, commits per attempt, fallbacks,
// refusals, breakers open, ...) from the scrapes of MetricsScraper::Columns().
nlohmann::json ServerFigures(const std::vector<MetricsRow>& rows);

// The increase of a counter over rows, tolerating restarts (a counter that drops restarted from
// zero).
double CounterIncrease(const std::vector<MetricsRow>& rows, size_t column);

}  // namespace rp::sim
