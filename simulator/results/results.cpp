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

json OpsJson(const LoadOutcome& load) {
  json ops = json::object();
  for (const auto& [name, op] : load.stats.ops()) {
    json by_status = json::object();
    for (auto [code, n] : op.by_status) by_status[std::to_string(code)] = n;
    ops[name] = {{"requests", op.requests},
                 {"errors", op.errors},
                 {"error_rate_percent",
                  op.requests ? 100.0 * static_cast<double>(op.errors) / op.requests : 0.0},
                 {"throughput_per_s", load.stats.Throughput(name, load.load_seconds)},
                 {"p50_ms", Ms(op.latency.ValueAtQuantile(0.5))},
                 {"p90_ms", Ms(op.latency.ValueAtQuantile(0.9))},
                 {"p99_ms", Ms(op.latency.ValueAtQuantile(0.99))},
                 {"max_ms", Ms(op.latency.max_us())},
                 {"refused", op.refused},
                 {"degraded", op.degraded},
                 {"admitted_p99_ms", Ms(op.admitted_latency.ValueAtQuantile(0.99))},
                 {"ok_p99_ms", Ms(op.ok_latency.ValueAtQuantile(0.99))},
                 {"unanswered", op.unanswered},
                 {"unanswered_by_cause", op.unanswered_by_cause},
                 {"by_status", by_status}};
  }
  return ops;
}

json VerificationJson(const VerificationReport& v) {
  return {{"ok", v.ok},
          {"packets_checked", v.packets_checked},
          {"claims_checked", v.claims_checked},
          {"claims_acknowledged", v.claims_acknowledged},
          {"packets_unsettled", v.packets_unsettled},
          {"transfers_checked", v.transfers_checked},
          {"recon_answered", v.recon_answered},
          {"recon_clean", v.recon_clean},
          {"recon_drift_cents", v.recon_drift_cents},
          {"recon_discrepancies", v.recon_discrepancies},
          {"history_events", v.history_events},
          {"unknown_outcomes", v.unknown_outcomes},
          {"unknown_committed", v.unknown_committed},
          {"packets_unreadable", v.packets_unreadable},
          {"violations", v.violations},
          {"violations_total", v.violations_total}};
}

json FaultsJson(const std::vector<FaultRecord>& faults) {
  json out = json::array();
  for (const FaultRecord& f : faults) {
    out.push_back({{"action", f.action},
                   {"planned_s", f.planned_s},
                   {"started_s", f.started_s},
                   {"ended_s", f.ended_s},
                   {"ok", f.ok},
                   {"detail", f.detail}});
  }
  return out;
}

// The plan's phases on the load's time axis (after --duration scaling).
json PhasesJson(const Scenario& s) {
  json out = json::array();
  int64_t at_s = 0;
  for (const Phase& p : s.load.phases) {
    out.push_back({{"name", p.name}, {"start_s", at_s}, {"end_s", at_s + p.duration_s}});
    at_s += p.duration_s;
  }
  return out;
}

// The plan's arrival rate in each second of the load (its mean over four instants, so a spike
// or a wave edge inside a second counts in part); empty for the closed model.
json PlannedArrivals(const Scenario& s) {
  json out = json::array();
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

json ChecksJson(const std::vector<CheckResult>& checks) {
  json out = json::array();
  for (const CheckResult& c : checks) {
    out.push_back({{"check", c.check},
                   {"kind", c.kind},
                   {"passed", c.passed},
                   {"actual", c.actual},
                   {"detail", c.detail}});
  }
  return out;
}

// Every run's part of summary.json.
json RunSummaryJson(const RunReport& r) {
  const Scenario& s = *r.scenario;
  const LoadOutcome& load = *r.load;
  return {{"schema", kSummarySchema},
          {"schema_version", kSummarySchemaVersion},
          {"scenario", s.name},
          {"scenario_file", s.path},
          {"description", s.description},
          {"seed", s.seed},
          {"started_at", r.started_at},
          {"versions", {{"rp_sim", GitVersion()}}},
          {"target", r.target},
          {"system",
           {{"claim_scheme", s.system.claim_scheme},
            {"redis", s.system.redis},
            {"server_config", s.system.server_config},
            {"server_settings", r.server_settings},
            {"started_by_rp_sim", r.system_started},
            // A --target server's ledger and size are its own: not claimed here.
            {"ledger", r.system_started ? s.system.ledger : "unknown"},
            {"instances", r.system_started ? s.system.instances : 0}}},
          {"load",
           {{"model", s.load.model},
            {"connections", s.load.connections},
            {"duration_s", load.load_seconds},
            {"planned_duration_s", s.DurationS()},
            {"started_at_unix_ms", r.load_started_unix_ms},
            {"offered_arrivals", load.stats.arrivals()},
            {"dropped_arrivals", load.stats.dropped()},
            {"arrival_lag_ms_p99",
             static_cast<double>(load.stats.arrival_lag().ValueAtQuantile(0.99)) / 1000.0},
            {"arrival_lag_ms_max", static_cast<double>(load.stats.arrival_lag().max_us()) / 1000.0},
            {"planned_arrivals_per_s", PlannedArrivals(s)},
            {"aborted", !load.aborted_by.empty()},
            {"aborted_by", load.aborted_by}}},
          {"phases", PhasesJson(s)},
          {"healthz_ceiling_rps", MedianOf(r.healthz_ceiling_samples_rps)},
          {"healthz_ceiling_samples_rps", r.healthz_ceiling_samples_rps},
          {"cost", r.cost.is_null() ? json::object() : r.cost},
          {"ops", OpsJson(load)},
          {"unanswered", UnansweredJson(PlaceUnanswered(s, load.stats, r.faults))},
          {"server", ServerFigures(r.server_metrics)},
          {"verification", VerificationJson(*r.verification)},
          {"faults", FaultsJson(r.faults)},
          {"checks", ChecksJson(r.checks)},
          {"passed", r.passed}};
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

json SummaryJson(const RunReport& r) {
  json summary = RunSummaryJson(r);
  if (r.exact) summary["exact"] = ExactJson(*r.exact);
  return summary;
}

}  // namespace rp::sim
