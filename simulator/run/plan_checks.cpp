#include "simulator/run/plan_checks.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <string>

#include "simulator/checks/unanswered.h"

namespace rp::sim {
namespace {

CheckResult ArrivalLagCheck(const Scenario& s, const LoadOutcome& load) {
  const LatencyHistogram& lag = load.stats.arrival_lag();
  CheckResult c;
  c.kind = "plan";
  char text[96];
  std::snprintf(text, sizeof text, "arrival_lag p99 <= %g ms", s.load.arrival_lag_p99_ms_max);
  c.check = text;
  c.actual = static_cast<double>(lag.ValueAtQuantile(0.99)) / 1000.0;
  c.passed = c.actual <= s.load.arrival_lag_p99_ms_max;
  std::snprintf(text, sizeof text, "arrival_lag p99 = %.2f ms (max %.2f ms), limit <= %g ms",
                c.actual, static_cast<double>(lag.max_us()) / 1000.0,
                s.load.arrival_lag_p99_ms_max);
  c.detail = std::string(text) +
             ": how late the generator started arrivals after their "
             "scheduled instant" +
             (c.passed ? "" : "; the simulator could not offer the load on the plan's schedule");
  return c;
}

CheckResult DroppedArrivalsCheck(const Scenario& s, int64_t offered, int64_t dropped) {
  CheckResult c;
  c.kind = "plan";
  char text[64];
  std::snprintf(text, sizeof text, "dropped_arrivals <= %g%%", s.load.dropped_percent_max);
  c.check = text;
  c.actual = 100.0 * static_cast<double>(dropped) / static_cast<double>(offered);
  c.passed = c.actual <= s.load.dropped_percent_max;
  char head[96];
  std::snprintf(head, sizeof head, "dropped_arrivals = %.2f%%, limit <= %g%%: ", c.actual,
                s.load.dropped_percent_max);
  c.detail = head + std::to_string(dropped) + " of " + std::to_string(offered) +
             " arrivals dropped at the in-flight bound (load.journeys_in_flight_max = " +
             std::to_string(s.load.journeys_in_flight_max) + ")" +
             (c.passed ? "" : "; the load this scenario plans did not happen");
  return c;
}

std::string FaultAt(double at_s) {
  char at[32];
  std::snprintf(at, sizeof at, "%.1f", at_s);
  return at;
}

}  // namespace

double PlannedArrivalsTotal(const Scenario& s, double load_s) {
  // Midpoint rule on 10 ms steps. Phases, spikes and waves change rate on whole seconds, so
  // each step sees one rate, and the midpoint is exact for a ramp's straight line: the sum is
  // the integral, not an estimate of it.
  constexpr double kStepS = 0.01;
  double total = 0;
  for (double t_s = 0; t_s < load_s; t_s += kStepS) {
    const double width_s = std::min(kStepS, load_s - t_s);
    total += s.PlannedRateAt(t_s + width_s / 2) * width_s;
  }
  return total;
}

double OfferedArrivalsSlack(double expected_arrivals) {
  // A Poisson count's standard deviation is the square root of its mean: 5 of them leave a
  // correct generator a false alarm about once in a million runs for a plan of hundreds of
  // arrivals or more. A small plan's tail is heavier (a mean of 5 gives 17 once in 50,000
  // runs): the 5 more bring it under one in a million too. The 2% floor covers what the
  // generator does at a step up of the rate (the gap drawn at the rate before the step carries
  // over it: a few arrivals per step) on long runs, where 5 deviations are tighter. A planned
  // stretch left out (a spike with no rate) is far beyond both.
  const double expected = std::max(0.0, expected_arrivals);
  return std::max(5 * std::sqrt(expected) + 5, 0.02 * expected);
}

CheckResult OfferedArrivalsCheck(double expected_arrivals, int64_t offered_arrivals) {
  CheckResult c;
  c.kind = "plan";
  c.check = "offered_arrivals match the plan";
  c.actual = static_cast<double>(offered_arrivals);
  const double slack = OfferedArrivalsSlack(expected_arrivals);
  const double off_by = c.actual - expected_arrivals;
  c.passed = std::fabs(off_by) <= slack;
  char text[192];
  std::snprintf(text, sizeof text,
                "offered_arrivals = %lld, the plan's rate integrates to %.0f (allowed +-%.0f: "
                "Poisson noise)",
                static_cast<long long>(offered_arrivals), expected_arrivals, slack);
  c.detail = text;
  if (!c.passed) {
    std::snprintf(text, sizeof text,
                  "; %.0f %s than planned: the load this scenario plans did "
                  "not happen",
                  std::fabs(off_by), off_by < 0 ? "fewer" : "more");
    c.detail += text;
  }
  return c;
}

std::vector<CheckResult> PlanChecks(const Scenario& s, const LoadOutcome& load,
                                    const std::vector<FaultRecord>& faults) {
  std::vector<CheckResult> out;
  const int64_t offered = load.stats.arrivals(), dropped = load.stats.dropped();
  if (s.load.model == "open") {
    out.push_back(OfferedArrivalsCheck(PlannedArrivalsTotal(s, load.load_seconds), offered));
  }
  if (offered > 0) {
    out.push_back(DroppedArrivalsCheck(s, offered, dropped));
    out.push_back(ArrivalLagCheck(s, load));
  }
  if (!load.aborted_by.empty()) {
    CheckResult c;
    c.kind = "plan";
    c.check = "the load ran its whole plan";
    c.detail = "the load was aborted: " + load.aborted_by;
    out.push_back(std::move(c));
  }
  out.push_back(UnansweredCheck(PlaceUnanswered(s, load.stats, faults)));
  for (size_t i = 0; i < s.faults.size(); ++i) {
    const Fault& f = s.faults[i];
    CheckResult c;
    c.kind = "plan";
    const std::string action = Name(f.action);
    c.check = "fault " + action + " at " + FaultAt(f.at_s) + " s applied";
    c.passed = i < faults.size() && faults[i].ok;
    c.detail = "fault " + action + " at " + FaultAt(f.at_s) + " s " +
               (c.passed ? "applied: " : "did not apply: ") +
               (i < faults.size() ? faults[i].detail : "it never ran, the load ended first");
    out.push_back(std::move(c));
  }
  return out;
}

}  // namespace rp::sim
