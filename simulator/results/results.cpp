#include "simulator/results/results.h"

#include "common/version/version.h"
#include "simulator/checks/unanswered.h"
#include "simulator/stats/rank_test.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

namespace rp::sim {
namespace {

using nlohmann::json;

double Ms(int64_t us) {
  return static_cast<double>(us) / 1000.0;
}

std::map<std::string, results::SummaryOp> Ops(const LoadOutcome& load) {
  std::map<std::string, results::SummaryOp> ops;
  for (const auto& [name, op] : load.stats.ops()) {
    results::SummaryOp& o = ops[name];
    for (auto [code, n] : op.by_status) o.by_status[std::to_string(code)] = n;
    o.requests = op.requests;
    o.errors = op.errors;
    o.error_rate_percent = op.requests ? 100.0 * static_cast<double>(op.errors) / op.requests : 0.0;
    o.throughput_per_s = load.stats.Throughput(name, load.load_seconds);
    o.p50_ms = Ms(op.latency.ValueAtQuantile(0.5));
    o.p90_ms = Ms(op.latency.ValueAtQuantile(0.9));
    o.p99_ms = Ms(op.latency.ValueAtQuantile(0.99));
    o.max_ms = Ms(op.latency.max_us());
    o.refused = op.refused;
    o.degraded = op.degraded;
    o.admitted_p99_ms = Ms(op.admitted_latency.ValueAtQuantile(0.99));
    o.ok_p99_ms = Ms(op.ok_latency.ValueAtQuantile(0.99));
    o.unanswered = op.unanswered;
    o.unanswered_by_cause = op.unanswered_by_cause;
  }
  return ops;
}

// The plan's phases on the load's time axis (after --duration scaling).
std::vector<results::SummaryPhase> Phases(const Scenario& s) {
  std::vector<results::SummaryPhase> out;
  int64_t at_s = 0;
  for (const Phase& p : s.load.phases) {
    out.push_back({p.name, static_cast<double>(at_s), static_cast<double>(at_s + p.duration_s)});
    at_s += p.duration_s;
  }
  return out;
}

// The plan's arrival rate in each second of the load (its mean over four instants, so a spike
// or a wave edge inside a second counts in part); empty for the closed model.
std::vector<double> PlannedArrivals(const Scenario& s) {
  std::vector<double> out;
  if (s.load.model != "open") return out;
  for (int64_t sec = 0; sec < s.DurationS(); ++sec) {
    double sum = 0;
    for (int q = 0; q < 4; ++q) sum += s.PlannedRateAt(static_cast<double>(sec) + 0.125 + q * 0.25);
    out.push_back(std::round(sum / 4 * 1000) / 1000);
  }
  return out;
}

json ExactJson(const ExactFigures& e) {
  return {{"tool", e.tool},
          {"valgrind_version", e.valgrind_version},
          {"instructions", e.instructions},
          {"claims_won", e.claims_won},
          {"claim_requests", e.claim_requests},
          {"instructions_per_claim", e.claims_won > 0 ? static_cast<double>(e.instructions) /
                                                            static_cast<double>(e.claims_won)
                                                      : 0.0}};
}

results::SummarySystem System(const RunReport& r) {
  const SystemSpec& sys = r.scenario->system;
  results::SummarySystem o;
  o.claim_scheme = sys.claim_scheme;
  o.redis = sys.redis;
  o.server_config = sys.server_config;
  o.server_settings = r.server_settings;
  o.started_by_rp_sim = r.system_started;
  // A --target server's ledger and size are its own: not claimed here.
  o.ledger = r.system_started ? sys.ledger : "unknown";
  o.instances = r.system_started ? sys.instances : 0;
  return o;
}

results::SummaryLoad Load(const Scenario& s, const RunReport& r) {
  const LoadOutcome& load = *r.load;
  results::SummaryLoad o;
  o.model = s.load.model;
  o.connections = s.load.connections;
  o.duration_s = load.load_seconds;
  o.planned_duration_s = s.DurationS();
  o.started_at_unix_ms = r.load_started_unix_ms;
  o.offered_arrivals = load.stats.arrivals();
  o.dropped_arrivals = load.stats.dropped();
  o.arrival_lag_ms_p99 = Ms(load.stats.arrival_lag().ValueAtQuantile(0.99));
  o.arrival_lag_ms_max = Ms(load.stats.arrival_lag().max_us());
  o.planned_arrivals_per_s = PlannedArrivals(s);
  o.aborted = !load.aborted_by.empty();
  o.aborted_by = load.aborted_by;
  return o;
}

}  // namespace

std::string UnansweredText(const json& summary) {
  const json u = summary.value("unanswered", json());
  if (!u.is_object()) return "";
  auto counts = [](const json& by) {
    std::map<std::string, int64_t> out;
    for (const auto& [k, v] : by.items()) out[k] = v.get<int64_t>();
    return CountsText(out);
  };
  auto limit = [](const json& max) {
    return max.is_string() ? std::string("any number allowed")
                           : "at most " + std::to_string(max.get<int64_t>());
  };
  const int64_t total = u.value("unanswered", int64_t{0});
  std::string text = "unanswered: " + std::to_string(total) + " of " +
                     std::to_string(u.value("requests", int64_t{0})) + " requests";
  if (total > 0) {
    text += " (" + counts(u.value("by_op", json::object())) + "; " +
            counts(u.value("by_cause", json::object())) + ")";
  }
  for (const json& w : u.value("fault_windows", json::array())) {
    char at[32];
    std::snprintf(at, sizeof at, "%.1f", w.value("planned_s", 0.0));
    text += "; in the window of " + w.value("action", std::string()) + " at " + at +
            " s: " + std::to_string(w.value("unanswered", int64_t{0})) + " (" +
            limit(w.value("max", json(0))) + ")";
  }
  for (const json& p : u.value("by_phase", json::array())) {
    if (p.value("unanswered", int64_t{0}) == 0) continue;
    text += "; sent in phase " + p.value("phase", std::string()) + ": " +
            std::to_string(p.value("unanswered", int64_t{0})) + ", outside fault windows " +
            std::to_string(p.value("outside_windows", int64_t{0})) + " (" +
            limit(p.value("max", json(0))) + ")";
  }
  return text;
}

results::RunSummary Summary(const RunReport& r) {
  const Scenario& s = *r.scenario;
  results::RunSummary o;
  o.scenario = s.name;
  o.scenario_file = s.path;
  o.description = s.description;
  o.seed = s.seed;
  o.started_at = r.started_at;
  o.versions = {{"rp_sim", GitVersion()}};
  o.target = r.target;
  o.system = System(r);
  o.load = Load(s, r);
  o.phases = Phases(s);
  o.healthz_ceiling_rps = MedianOf(r.healthz_ceiling_samples_rps);
  o.healthz_ceiling_samples_rps = r.healthz_ceiling_samples_rps;
  o.cost = r.cost.is_null() ? json::object() : r.cost;
  o.ops = Ops(*r.load);
  o.unanswered = UnansweredJson(PlaceUnanswered(s, r.load->stats, r.faults));
  o.server = ServerFigures(r.server_metrics);
  o.verification = *r.verification;
  for (const FaultRecord& f : r.faults) {
    o.faults.push_back({f.action, f.planned_s, f.started_s, f.ended_s, f.ok, f.detail});
  }
  for (const CheckResult& c : r.checks) {
    o.checks.push_back({c.check, c.kind, c.passed, c.actual, c.detail});
  }
  o.passed = r.passed;
  if (r.exact) o.exact = ExactJson(*r.exact);
  return o;
}

json SummaryJson(const RunReport& r) {
  return results::ToJson(Summary(r));
}

}  // namespace rp::sim
