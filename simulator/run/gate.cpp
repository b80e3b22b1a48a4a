#include "simulator/run/gate.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>

#include "simulator/stats/rank_test.h"

namespace rp::sim {

using nlohmann::json;

const std::vector<GatedFigure>& GatedFigures() {
  // Tolerances: from the spread each figure showed over repeated runs of the unchanged test
  // build, quiet and beside a full build (docs/perf.md, "Can the gate be trusted"), with room.
  // CPU in /healthz answers: +40 %, after an unchanged build measured +27.9 % (mem_lock, 3 runs
  // against the baseline's 5) on a quiet machine, failing a limit of +25 %.
  static const std::vector<GatedFigure> kFigures = {
      // key, label, unit, kind, higher_is_worse, tolerance, ab_tolerance, timed
      {"cpu_ms_per_claim", "CPU per claim won", "ms", GateKind::kStatistic, true, -1, 0.10, true},
      {"cpu_per_claim_in_healthz", "CPU per claim won, in /healthz answers", "", GateKind::kCost,
       true, 0.40, -1, true},
      {"instructions_per_claim", "instructions per claim won (exact mode)", "", GateKind::kCost,
       true, 0.01, 0.01, false},
      {"statements_per_claim", "ledger statements per claim won", "", GateKind::kCost, true, 0.25,
       0.25, false},
      {"claim_commits_per_claim", "ledger commits holding claims, per claim won", "",
       GateKind::kCost, true, 1.0, 1.0, false},
      {"redis_round_trips_per_claim", "Redis round trips per claim won", "", GateKind::kCost, true,
       0.5, 0.5, false},
      {"claim_errors", "claim errors", "", GateKind::kAtMost, true, 0, 0, false},
      {"claims_per_s_per_ceiling", "claims/s per /healthz ceiling", "", GateKind::kStatistic, false,
       0.3, 0.1, true},
      {"claim_p99_ms", "p99(claim)", "ms", GateKind::kStatistic, true, 3.0, 0.5, true},
  };
  return kFigures;
}

std::optional<std::pair<std::string, double>> ParseTolerance(const std::string& text) {
  const size_t eq = text.find('=');
  if (eq == std::string::npos) return std::nullopt;
  const std::string key = text.substr(0, eq), number = text.substr(eq + 1);
  bool known = false;
  for (const GatedFigure& f : GatedFigures()) known = known || key == f.key;
  char* end = nullptr;
  const double value = std::strtod(number.c_str(), &end);
  if (!known || number.empty() || *end != '\0' || !std::isfinite(value) || value < 0 ||
      value > 10) {
    return std::nullopt;
  }
  return std::make_pair(key, value);
}

std::string GatedFigureKeys() {
  std::string out;
  for (const GatedFigure& f : GatedFigures()) out += (out.empty() ? "" : ", ") + std::string(f.key);
  return out;
}

std::optional<double> FigureOf(const json& row, const std::string& key) {
  auto it = row.find(key);
  if (it == row.end() || !it->is_number()) return std::nullopt;
  return it->get<double>();
}

namespace {
// Four significant digits, except that counts in the thousands and above (instructions per claim)
// are written whole: 310209, not 3.102e+05, so a 1 % limit reads at a glance.
std::string FigureText(double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, std::fabs(v) >= 10000 ? "%.0f" : "%.4g", v);
  return buf;
}
}  // namespace

std::string GateResult::Message() const {
  char buf[512];
  if (figure == "run_passed") {
    return scheme + ": " + label + ": " + (passed ? "yes" : "NO") +
           (note.empty() ? "" : " (" + note + ")");
  }
  if (!judged && (runs == 0 || baseline_runs == 0)) {
    std::snprintf(buf, sizeof buf, "%s: %s: not judged: %s", scheme.c_str(), label.c_str(),
                  note.c_str());
    return buf;
  }
  const std::string u = unit.empty() ? "" : " " + unit;
  const double change = baseline != 0 ? 100.0 * (value - baseline) / baseline : 0;
  std::snprintf(buf, sizeof buf,
                "%s: %s %s%s (median of %d) vs baseline %s%s (median of %d): %+.2f%%",
                scheme.c_str(), label.c_str(), FigureText(value).c_str(), u.c_str(), runs,
                FigureText(baseline).c_str(), u.c_str(), baseline_runs, change);
  std::string out = buf;
  if (judged) {  // A figure reported but not gated has no limit.
    out += ", limit " + FigureText(limit) + u;
  }
  if (p_value) {
    std::snprintf(buf, sizeof buf, ", Mann-Whitney p = %.3g", *p_value);
    out += buf;
  }
  if (!note.empty()) out += "; " + note;
  return out;
}

namespace {

std::vector<double> Values(const std::vector<json>& rows, const std::string& key) {
  std::vector<double> out;
  for (const json& r : rows) {
    if (std::optional<double> v = FigureOf(r, key)) out.push_back(*v);
  }
  return out;
}

double ToleranceOf(const GatedFigure& f, const GateOptions& o) {
  for (const auto& [key, value] : o.tolerances) {
    if (key == f.key) return value;
  }
  return o.interleaved ? f.ab_tolerance : f.tolerance;
}

// A figure whose baseline is 0 (a scheme that never uses Redis) fails on any growth beyond a
// small absolute allowance rather than on a percentage of nothing.
double LimitOf(const GatedFigure& f, double base, double tolerance) {
  if (f.kind == GateKind::kAtMost) return base;
  if (base == 0) return f.higher_is_worse ? 0.05 : 0;
  return f.higher_is_worse ? base * (1 + tolerance) : base * (1 - tolerance);
}

GateResult Judge(const GatedFigure& f, const std::vector<double>& now,
                 const std::vector<double>& base, const GateOptions& o) {
  GateResult r;
  r.figure = f.key;
  r.label = f.label;
  r.unit = f.unit;
  r.runs = static_cast<int>(now.size());
  r.baseline_runs = static_cast<int>(base.size());
  if (now.empty() || base.empty()) {
    r.note = now.empty() ? "not measured in these runs" : "the baseline does not have it";
    return r;
  }
  r.judged = true;
  r.value = MedianOf(now);
  r.baseline = MedianOf(base);
  r.tolerance = ToleranceOf(f, o);
  r.limit = LimitOf(f, r.baseline, r.tolerance);
  if (o.exact && f.timed) {
    r.judged = false;
    r.note = "reported, not gated in exact mode (the runs were under callgrind)";
    return r;
  }
  if (f.kind != GateKind::kAtMost && r.tolerance < 0) {
    r.judged = false;
    r.note = o.interleaved ? "reported, not gated when the builds run interleaved"
                           : "reported, not gated against a committed baseline (moves with the "
                             "machine; regress --against gates it)";
  }
  const bool beyond = f.higher_is_worse ? r.value > r.limit : r.value < r.limit;
  // Are the runs worse than the baseline's? (for "lower is worse", negate both samples)
  std::vector<double> a = now, b = base;
  if (!f.higher_is_worse) {
    for (double& v : a) v = -v;
    for (double& v : b) v = -v;
  }
  r.p_value = MannWhitneyGreater(a, b).p_value;
  if (!r.judged) return r;
  switch (f.kind) {
    case GateKind::kCost:
    case GateKind::kAtMost:
      r.passed = !beyond;
      break;
    case GateKind::kStatistic: {
      const bool significant = *r.p_value < o.significance;
      r.passed = !(beyond && significant);
      char note[200];
      if (SmallestPValue(now.size(), base.size()) >= o.significance) {
        std::snprintf(note, sizeof note,
                      "reported, not gated: %zu run(s) against %zu cannot reach p < %g "
                      "(use --repeats)",
                      now.size(), base.size(), o.significance);
      } else {
        std::snprintf(note, sizeof note, "gated when p < %g and beyond the limit", o.significance);
      }
      r.note = note;
      break;
    }
  }
  return r;
}

}  // namespace

std::vector<GateResult> JudgeScheme(const std::string& scheme, const std::vector<json>& runs,
                                    const std::vector<json>& baseline_runs,
                                    const GateOptions& options) {
  std::vector<GateResult> out;
  GateResult ran;
  ran.scheme = scheme;
  ran.figure = "run_passed";
  ran.label = "the runs passed their checks and the money verification";
  ran.judged = true;
  ran.runs = static_cast<int>(runs.size());
  for (const json& r : runs) {
    const bool ok = r.value("passed", false) && r.value("verification_ok", false);
    ran.passed = ran.passed && ok;
  }
  ran.value = ran.passed ? 1 : 0;
  ran.baseline = ran.limit = 1;
  if (!ran.passed) ran.note = "a run failed its checks or the verification (see its report.md)";
  out.push_back(ran);
  for (const GatedFigure& f : GatedFigures()) {
    GateResult r = Judge(f, Values(runs, f.key), Values(baseline_runs, f.key), options);
    r.scheme = scheme;
    out.push_back(std::move(r));
  }
  return out;
}

}  // namespace rp::sim
