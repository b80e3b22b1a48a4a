// rp-sim's own checks, kind "plan": "a green result means the plan happened". The arrivals the
// scenario planned were offered (as many as the plan's rate integrates to, within Poisson
// noise; at most load.dropped_percent_max dropped at the in-flight bound; on the plan's
// schedule), every request was answered unless the scenario budgets it (checks/unanswered.h),
// and every fault on the timeline ran and applied. Pure functions over the run's outcome;
// thread-compatible.
#pragma once

#include <cstdint>
#include <vector>

#include "simulator/checks/evaluate.h"
#include "simulator/engine/load_engine.h"
#include "simulator/monitor/monitor.h"
#include "simulator/scenario/scenario.h"

namespace rp::sim {

// The arrivals the open model plans over the first load_s seconds of the load: the integral of
// Scenario::PlannedRateAt. 0 for the closed model.
double PlannedArrivalsTotal(const Scenario& scenario, double load_s);

// Offered arrivals against the plan's expected_arrivals: fails when they differ by more than
// the noise of a Poisson count allows (OfferedArrivalsSlack).
CheckResult OfferedArrivalsCheck(double expected_arrivals, int64_t offered_arrivals);

// How far a Poisson count may stray from its mean expected_arrivals before it says the
// generator did not follow the plan: max(5 sqrt(expected) + 5, 2% of expected).
double OfferedArrivalsSlack(double expected_arrivals);

// Every plan check of one run.
std::vector<CheckResult> PlanChecks(const Scenario& scenario, const LoadOutcome& load,
                                    const std::vector<FaultRecord>& faults);

}  // namespace rp::sim
