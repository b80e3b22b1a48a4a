// The claim-scheme gate of `rp-sim regress`: which figures it judges, how, and the verdict on one
// scheme's runs against its baseline. One row per gated figure in GatedFigures(); adding a figure
// to the gate is one row there (and the figure in compare's Figures()).
//
// Two kinds of figure, because they answer to the machine differently:
//   kCost       — what the scheme spends per claim won: CPU time of the system under test,
//                 ledger statements and claim commits, Redis round trips, exact instructions.
//                 The median of the runs is compared with the baseline's median and a tolerance.
//                 CPU time is not free of the machine: measured here, a neighbour compiling on the
//                 other core raised db_lock's CPU per claim by 20-40% (caches, fewer requests per
//                 wake-up), and one day's machine ran half as fast as another's. Against a
//                 committed baseline the claim's CPU is therefore judged in /healthz answers of
//                 the same run (speed cancels) with a wide limit; with the two builds
//                 interleaved on one machine (--against) the CPU milliseconds are judged as a
//                 kStatistic figure (runs of one build spread ±10%: it takes 5 or more a side).
//   kStatistic  — claims/s per /healthz ceiling, p99: what the machine had free as much as what
//                 the scheme costs. Gated only when the Mann-Whitney U test says the runs are
//                 worse than the baseline's runs (p below the significance level) *and* the
//                 median is beyond the tolerance; otherwise reported with the p-value.
//   kAtMost     — counts that must not grow at all (claim errors).
// Pure; thread-compatible.
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

namespace rp::sim {

enum class GateKind { kCost, kStatistic, kAtMost };

struct GatedFigure {
  const char* key;  // In Figures() rows ("cpu_ms_per_claim").
  const char* label;
  const char* unit;
  GateKind kind;
  bool higher_is_worse;
  // Relative (0.25: 25% worse fails); unused for kAtMost. Negative: reported, not gated.
  double tolerance;     // Against a committed baseline (another time, maybe another machine).
  double ab_tolerance;  // Against runs of the other build interleaved with these (--against).
  // Measured in time (CPU seconds, claims/s, p99): under callgrind (exact mode) it describes
  // valgrind, not the scheme, so exact runs report it without gating it.
  bool timed;
};

// Every figure the gate judges, in report order.
const std::vector<GatedFigure>& GatedFigures();

struct GateOptions {
  // Overrides of a figure's default tolerance, by key (--tolerance KEY=FRACTION).
  std::vector<std::pair<std::string, double>> tolerances;
  double significance = 0.01;  // kStatistic figures fail only with p below this.
  // The baseline's runs were made now, alternating with these, on the same machine (regress
  // --against): what the machine had free is the same for both, so tighter limits hold.
  bool interleaved = false;
  // Exact mode (--exact): the runs were slices under callgrind, so time-based figures (CPU
  // seconds, claims/s, p99) describe valgrind, not the scheme: reported, not gated.
  bool exact = false;
};

// One gated figure of one scheme.
struct GateResult {
  std::string scheme;
  std::string figure;  // GatedFigure::key
  std::string label;
  std::string unit;
  bool judged = false;  // False: not measured in the runs or the baseline (said in `note`).
  bool passed = true;
  double value = 0;     // Median of the runs.
  double baseline = 0;  // Median of the baseline's runs.
  double limit = 0;     // The value beyond which it fails.
  double tolerance = 0;
  std::optional<double> p_value;  // Mann-Whitney: are the runs worse than the baseline's?
  int runs = 0;
  int baseline_runs = 0;
  std::string note;  // Why it was not judged, or how it was.

  std::string Message() const;  // One line: measured, baseline, tolerance, limit, p.
};

// Judges one scheme: `runs` are its Figures() rows now, `baseline_runs` the baseline's rows of
// the same scheme (compare.json "runs"). A run that failed its checks or verification is a
// result of its own ("run passed").
std::vector<GateResult> JudgeScheme(const std::string& scheme,
                                    const std::vector<nlohmann::json>& runs,
                                    const std::vector<nlohmann::json>& baseline_runs,
                                    const GateOptions& options);

// "cpu_ms_per_claim=0.1" -> {"cpu_ms_per_claim", 0.1}: a gated figure's key and a finite
// fraction in [0, 10]; nullopt otherwise.
std::optional<std::pair<std::string, double>> ParseTolerance(const std::string& text);

// "cpu_ms_per_claim, instructions_per_claim, ...": the keys --tolerance takes.
std::string GatedFigureKeys();

// The figure of a row, if it was measured (absent or null: not).
std::optional<double> FigureOf(const nlohmann::json& row, const std::string& key);

}  // namespace rp::sim
