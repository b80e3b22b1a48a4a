// Requests that got no answer (timeouts, connections refused or lost, a proxy's 502/504: see
// NoAnswer) and the plan check that judges them: a run passes only when every request was
// answered, or when the ones that were not fall inside a budget the scenario states — a fault's
// `unanswered_max` over that fault's window, or a phase's `unanswered_max`. Each such request is
// placed in the first budgeted fault window it overlaps (in flight at any time from the fault's
// start until unanswered_recovery_s after the fault is over), else in the phase it was sent in
// (after the last phase: the last phase). Pure functions; thread-compatible.
#pragma once

#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "simulator/checks/evaluate.h"
#include "simulator/monitor/monitor.h"
#include "simulator/scenario/scenario.h"
#include "simulator/stats/run_stats.h"

namespace rp::sim {

// One budgeted fault's window and what went unanswered in it.
struct UnansweredWindow {
  std::string action;
  double planned_s = 0;
  double start_s = 0;
  double end_s = 0;  // Infinity when the fault (or the action that ends it) never finished.
  int64_t max = 0;   // kUnansweredAll: any number.
  int64_t count = 0;
  std::map<std::string, int64_t> by_op;
};

// One load phase: every request sent in it that went unanswered, and those left to its own
// budget (not in any budgeted fault window).
struct UnansweredPhase {
  std::string name;
  int64_t max = 0;  // kUnansweredAll: any number.
  int64_t count = 0;
  int64_t outside_windows = 0;
  std::map<std::string, int64_t> by_op;
};

struct UnansweredFigures {
  int64_t requests = 0;  // Every request of the run, answered or not.
  int64_t total = 0;     // Without an answer.
  std::map<std::string, int64_t> by_op;
  std::map<std::string, int64_t> by_cause;  // NoAnswerName -> requests.
  std::vector<UnansweredPhase> phases;
  std::vector<UnansweredWindow> windows;
  // Counted but past RunStats::kUnansweredKeptMax, so not placed: judged beyond every budget.
  int64_t not_placed = 0;
  bool budgeted = false;  // The scenario states a budget (a fault's or a phase's).
  bool within_budget = true;
  // The earliest-sent request that went beyond its budget, if any.
  std::optional<UnansweredRequest> first_beyond;
  std::string first_beyond_where;  // "phase steady" or "the window of server_kill at 8.0 s".
};

// Places every unanswered request of stats against the scenario's budgets. faults: the fault
// timeline's records (index i is scenario.faults[i]; fewer when the load ended first).
UnansweredFigures PlaceUnanswered(const Scenario& scenario, const RunStats& stats,
                                  const std::vector<FaultRecord>& faults);

// The plan check: `unanswered == 0`, or `unanswered <= budget` when the scenario states one.
CheckResult UnansweredCheck(const UnansweredFigures& figures);

// summary.json's "unanswered".
nlohmann::json UnansweredJson(const UnansweredFigures& figures);

// "claim 12, detail 3": counts by name, largest first.
std::string CountsText(const std::map<std::string, int64_t>& counts);

}  // namespace rp::sim
