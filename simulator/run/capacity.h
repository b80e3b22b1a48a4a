// The analysis behind `rp-sim capacity` (run.h): per step of the stepped load, each route's
// throughput, p99 and error rate; the knee (the last step before any route broke the SLO);
// and the rate-limit config sized from the knee. Pure functions over a finished load; exposed
// so the tests can drive them with a load they made up.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "simulator/engine/load_engine.h"
#include "simulator/run/run.h"
#include "simulator/scenario/scenario.h"

namespace rp::sim {

struct RouteStep {
  double per_s = 0;
  double p99_ms = 0;
  double error_percent = 0;
  bool ok = true;
};

struct CapacityStep {
  double rate = 0;                          // Journeys per second offered.
  std::map<std::string, RouteStep> routes;  // By rp-server's route name ("claim", ...).
  int64_t dropped = 0;  // Arrivals the simulator could not start (its in-flight bound).
  bool ok = true;       // Every route within the SLO and nothing dropped: the plan happened.
};

struct CapacityAnalysis {
  std::vector<CapacityStep> steps;
  bool broke = false;          // Some step broke the SLO.
  std::optional<size_t> knee;  // Index of the last step before the first broken one.
};

// The stepped phases rp-sim capacity runs instead of the scenario's own.
std::vector<Phase> CapacityPhases(const CapacityOptions& o);

// scenario's phases are the steps (CapacityPhases); the first second of each is skipped.
CapacityAnalysis AnalyzeCapacity(const Scenario& scenario, const LoadOutcome& load,
                                 const CapacityOptions& o);

// limits.yaml: a `limits:` section, each route at headroom x its throughput at the knee.
std::string CapacityLimitsYaml(const CapacityStep& knee, const CapacityOptions& o,
                               const std::string& scenario_path);

// capacity.md: the per-step table and the verdict.
std::string CapacityMarkdown(const CapacityAnalysis& a, const CapacityOptions& o);

}  // namespace rp::sim
