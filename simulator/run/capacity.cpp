// rp-sim capacity: full-chain capacity and the rate limits sized from it (the seed: "rate limits
// set after estimating peak issuance and claim volumes, using full-chain traffic analysis").
// One run of the scenario's whole journey mix, stepped up; each route's throughput and p99 per
// step; the knee is the last step before any route broke the SLO; limits.yaml caps each route
// at headroom x what it carried there, in the `limits:` section rp-server loads as it is.
#include "simulator/run/capacity.h"

#include <cmath>
#include <cstdio>
#include <fstream>
#include <sstream>

#include "simulator/run/run_internal.h"

namespace rp::sim {
namespace {

// The API route each journey operation uses (rp-server's rate-limit route names).
const std::map<std::string, std::string>& RouteOfOp() {
  static const std::map<std::string, std::string> kRoutes = {
      {"send", "send"},          {"claim", "claim"}, {"poll", "get_packet"},
      {"detail", "list_claims"}, {"grab", "grab"},   {"subsidies", "subsidies"}};
  return kRoutes;
}

std::map<std::string, RouteStep> MeasureStep(const LoadOutcome& load, int64_t from_s, int64_t to_s,
                                             const CapacityOptions& o) {
  std::map<std::string, LatencyHistogram> latency;
  std::map<std::string, int64_t> requests, errors;
  for (const auto& [op, stats] : load.stats.ops()) {
    auto route = RouteOfOp().find(op);
    if (route == RouteOfOp().end()) continue;
    for (int64_t sec = from_s; sec < to_s && sec < static_cast<int64_t>(stats.seconds.size());
         ++sec) {
      const SecondStats& s = stats.seconds[static_cast<size_t>(sec)];
      latency[route->second].Merge(s.latency);
      requests[route->second] += s.requests;
      errors[route->second] += s.errors;
    }
  }
  std::map<std::string, RouteStep> out;
  for (const auto& [route, n] : requests) {
    if (n == 0) continue;
    RouteStep r;
    r.per_s = static_cast<double>(n) / static_cast<double>(to_s - from_s);
    r.p99_ms = static_cast<double>(latency[route].ValueAtQuantile(0.99)) / 1000.0;
    r.error_percent = 100.0 * static_cast<double>(errors[route]) / static_cast<double>(n);
    r.ok = r.p99_ms <= o.slo_p99_ms && r.error_percent <= o.error_percent_max;
    out[route] = r;
  }
  return out;
}

}  // namespace

std::vector<Phase> CapacityPhases(const CapacityOptions& o) {
  std::vector<Phase> phases;
  double rate = o.start_rate;
  for (int i = 0; i < o.steps; ++i, rate *= o.factor) {
    Phase p;
    p.name = "step" + std::to_string(i + 1);
    p.duration_s = o.step_s;
    p.rate = std::round(rate);
    phases.push_back(p);
  }
  return phases;
}

CapacityAnalysis AnalyzeCapacity(const Scenario& s, const LoadOutcome& load,
                                 const CapacityOptions& o) {
  CapacityAnalysis a;
  int64_t start_s = 0;
  for (const Phase& p : s.load.phases) {
    CapacityStep step;
    step.rate = p.rate;
    step.routes = MeasureStep(load, start_s + 1, start_s + p.duration_s, o);
    for (const auto& [route, r] : step.routes) step.ok = step.ok && r.ok;
    const std::vector<int64_t>& dropped = load.stats.dropped_per_second();
    for (int64_t sec = start_s; sec < start_s + p.duration_s; ++sec) {
      if (sec < static_cast<int64_t>(dropped.size())) step.dropped += dropped[sec];
    }
    // A step whose arrivals could not all start did not offer its rate: past the knee.
    step.ok = step.ok && step.dropped == 0;
    a.steps.push_back(std::move(step));
    start_s += p.duration_s;
  }
  for (size_t i = 0; i < a.steps.size(); ++i) {
    if (!a.steps[i].ok) {
      a.broke = true;
      break;
    }
    a.knee = i;
  }
  if (!a.broke) a.knee.reset();  // Never broken: the knee is above the last step, unknown.
  return a;
}

std::string CapacityLimitsYaml(const CapacityStep& knee, const CapacityOptions& o,
                               const std::string& scenario_path) {
  std::ostringstream y;
  y << "# Rate limits sized by `rp-sim capacity` from a full-chain run of " << scenario_path
    << ":\n# each route capped at " << o.headroom << " x what it carried at the knee (" << knee.rate
    << " journeys/s, p99 <= " << o.slo_p99_ms << " ms on every route).\n"
    << "# Load it as it is: rp-server serve --config limits.yaml\nlimits:\n  rules:\n";
  for (const auto& [route, r] : knee.routes) {
    const auto qps = static_cast<int64_t>(std::max(1.0, std::floor(r.per_s * o.headroom)));
    y << "    - {name: " << route << "_capacity, route: " << route << ", qps: " << qps
      << ", burst: " << std::max<int64_t>(1, qps / 5) << "}\n";
  }
  return y.str();
}

std::string CapacityMarkdown(const CapacityAnalysis& a, const CapacityOptions& o) {
  std::ostringstream md;
  md << "# Capacity\n\nSLO: p99 <= " << o.slo_p99_ms << " ms and errors <= " << o.error_percent_max
     << "% on every route.\n\n| journeys/s | route | req/s | p99 ms | "
     << "errors % | within SLO |\n|---|---|---|---|---|---|\n";
  char line[256];
  for (const CapacityStep& s : a.steps) {
    for (const auto& [route, r] : s.routes) {
      std::snprintf(line, sizeof line, "| %.0f | %s | %.0f | %.2f | %.2f | %s |\n", s.rate,
                    route.c_str(), r.per_s, r.p99_ms, r.error_percent, r.ok ? "yes" : "NO");
      md << line;
    }
  }
  md << "\n";
  if (a.knee) {
    std::snprintf(line, sizeof line,
                  "Knee: %.0f journeys/s (the last step with every route within the SLO).\n",
                  a.steps[*a.knee].rate);
  } else if (a.broke) {
    std::snprintf(line, sizeof line,
                  "No knee: the first step already broke the SLO; start lower (--start-rate).\n");
  } else {
    std::snprintf(line, sizeof line,
                  "No knee: no step broke the SLO, so the knee is above %.0f journeys/s; raise "
                  "--steps, --factor or --start-rate.\n",
                  a.steps.empty() ? 0.0 : a.steps.back().rate);
  }
  md << line;
  return md.str();
}

int RunCapacity(const CapacityOptions& o) {
  RunOptions run = o.run;
  run.edit_scenario = [&o](Scenario& s) {
    s.load.model = "open";
    s.load.phases = CapacityPhases(o);
    s.faults.clear();  // Capacity under normal conditions; overload.yaml adds the faults.
    s.checks.clear();
    // Steps past the knee drop arrivals, and leave requests unanswered (timeouts), by design;
    // the analysis marks them (CapacityStep).
    s.load.dropped_percent_max = 100;
    for (Phase& p : s.load.phases) p.unanswered_max = kUnansweredAll;
  };
  bool knee_found = false;
  run.after_run = [&o, &knee_found](const Scenario& s, const LoadOutcome& load,
                                    const std::string& out_dir) {
    const CapacityAnalysis a = AnalyzeCapacity(s, load, o);
    const std::string md = CapacityMarkdown(a, o);
    std::ofstream(out_dir + "/capacity.md") << md;
    std::printf("%s", md.c_str());
    if (!a.knee) return;
    std::ofstream(out_dir + "/limits.yaml") << CapacityLimitsYaml(a.steps[*a.knee], o, s.path);
    std::printf("limits: %s/limits.yaml (rp-server serve --config %s/limits.yaml)\n",
                out_dir.c_str(), out_dir.c_str());
    knee_found = true;
  };
  const int rc = RunOnce(run, nullptr);
  if (rc == 2) return 2;
  // The run's verdict is about money here (its checks were cleared): a failed verification
  // fails the capacity run; no knee found is an error of the plan (exit 2, said above).
  if (rc != 0) return 1;
  return knee_found ? 0 : 2;
}

}  // namespace rp::sim
