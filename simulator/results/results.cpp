#include "simulator/results/results.h"

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#ifndef RP_GIT_VERSION
#define RP_GIT_VERSION "unknown"
#endif

namespace rp::sim {
namespace {

using nlohmann::json;

double Ms(int64_t us) {
  return static_cast<double>(us) / 1000.0;
}

std::string Fixed(double v, int digits = 1) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", digits, v);
  return buf;
}

bool Compare(double actual, const std::string& op, double limit) {
  if (op == "<") return actual < limit;
  if (op == "<=") return actual <= limit;
  if (op == ">") return actual > limit;
  if (op == ">=") return actual >= limit;
  return actual == limit;
}

size_t Column(const std::string& name) {
  const auto& cols = MetricsScraper::Columns();
  for (size_t i = 0; i < cols.size(); ++i) {
    if (cols[i] == name) return i;
  }
  return cols.size();
}

double LastValue(const std::vector<MetricsRow>& rows, const std::string& name) {
  const size_t c = Column(name);
  for (auto it = rows.rbegin(); it != rows.rend(); ++it) {
    if (it->up && c < it->values.size()) return it->values[c];
  }
  return 0;
}

}  // namespace

double CounterIncrease(const std::vector<MetricsRow>& rows, size_t column) {
  double total = 0, last = 0;
  bool first = true;
  for (const MetricsRow& r : rows) {
    if (!r.up || column >= r.values.size()) continue;
    const double v = r.values[column];
    if (!first) total += v >= last ? v - last : v;  // A drop: the server restarted from zero.
    last = v;
    first = false;
  }
  return total;
}

std::vector<CheckResult> EvaluateChecks(const Scenario& s, const LoadOutcome& load,
                                        const VerificationReport& v) {
  std::vector<CheckResult> out;
  for (const CheckSpec& c : s.checks) {
    CheckResult r;
    r.check = c.text;
    std::string unit;
    if (c.metric == "recon.drift") {
      r.actual = static_cast<double>(v.recon_drift_cents);
      unit = " cents";
    } else if (c.metric == "recon.discrepancies") {
      r.actual = static_cast<double>(v.recon_discrepancies);
    } else {
      auto it = load.stats.ops().find(c.op);
      if (it == load.stats.ops().end() || it->second.requests == 0) {
        r.detail = "no " + c.op + " requests were made";
        out.push_back(r);
        continue;
      }
      const OpStats& op = it->second;
      if (c.metric == "error_rate") {
        r.actual = 100.0 * static_cast<double>(op.errors) / static_cast<double>(op.requests);
        unit = "%";
      } else if (c.metric == "throughput") {
        r.actual = load.stats.Throughput(c.op, load.load_seconds);
        unit = "/s";
      } else if (c.metric == "count") {
        r.actual = static_cast<double>(op.requests);
      } else {
        const double q = c.metric == "p50"   ? 0.5
                         : c.metric == "p90" ? 0.9
                         : c.metric == "p99" ? 0.99
                                             : 1.0;
        r.actual = Ms(op.latency.ValueAtQuantile(q));
        unit = " ms";
      }
    }
    r.passed = Compare(r.actual, c.comparison, c.threshold);
    const std::string what = c.op.empty() ? c.metric : c.metric + "(" + c.op + ")";
    r.detail = what + " = " + Fixed(r.actual, 2) + unit + ", limit " + c.comparison + " " +
               Fixed(c.threshold, 2) + unit;
    if (!r.passed && c.threshold != 0) {
      r.detail +=
          " (off by " + Fixed(100.0 * std::fabs(r.actual - c.threshold) / c.threshold, 0) + "%)";
    }
    out.push_back(r);
  }
  return out;
}

namespace {

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
                 {"by_status", by_status}};
  }
  return ops;
}

// The server's counters over the run, from the scraped rows.
json ServerJson(const std::vector<MetricsRow>& rows) {
  const double claims = CounterIncrease(rows, Column("rp_claims_total"));
  const double commits = CounterIncrease(rows, Column("rp_ledger_commits_total"));
  const double claim_commits = CounterIncrease(rows, Column("rp_ledger_claim_commits_total"));
  return {{"claims", claims},
          {"ledger_commits", commits},
          {"commits_per_claim", claims > 0 ? commits / claims : 0.0},
          {"claim_commits", claim_commits},
          {"claim_commits_per_claim", claims > 0 ? claim_commits / claims : 0.0},
          {"db_busy_retries", CounterIncrease(rows, Column("rp_db_busy_retries_total"))},
          {"lock_wait_seconds", CounterIncrease(rows, Column("rp_lock_wait_seconds_total"))},
          {"scheme_fallbacks", CounterIncrease(rows, Column("rp_scheme_fallbacks_total"))},
          {"redis_errors", CounterIncrease(rows, Column("rp_redis_errors_total"))},
          {"recon_drift_cents_last", LastValue(rows, "recon_drift_cents")}};
}

json VerificationJson(const VerificationReport& v) {
  return {{"ok", v.ok},
          {"packets_checked", v.packets_checked},
          {"claims_checked", v.claims_checked},
          {"claims_acknowledged", v.claims_acknowledged},
          {"packets_unsettled", v.packets_unsettled},
          {"transfers_checked", v.transfers_checked},
          {"recon_clean", v.recon_clean},
          {"recon_drift_cents", v.recon_drift_cents},
          {"recon_discrepancies", v.recon_discrepancies},
          {"violations", v.violations}};
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

json ChecksJson(const std::vector<CheckResult>& checks) {
  json out = json::array();
  for (const CheckResult& c : checks) {
    out.push_back(
        {{"check", c.check}, {"passed", c.passed}, {"actual", c.actual}, {"detail", c.detail}});
  }
  return out;
}

}  // namespace

json SummaryJson(const RunReport& r) {
  const Scenario& s = *r.scenario;
  const LoadOutcome& load = *r.load;
  return {{"scenario", s.name},
          {"scenario_file", s.path},
          {"description", s.description},
          {"seed", s.seed},
          {"started_at", r.started_at},
          {"versions", {{"rp_sim", RP_GIT_VERSION}}},
          {"target", r.target},
          {"system",
           {{"claim_scheme", s.system.claim_scheme},
            {"subsidy_mode", s.system.subsidy_mode},
            {"queue", s.system.queue},
            {"redis", s.system.redis},
            {"server_threads", s.system.server_threads},
            {"started_by_rp_sim", r.system_started},
            // A --target server's ledger and size are its own: not claimed here.
            {"ledger", r.system_started ? s.system.ledger : "unknown"},
            {"instances", r.system_started ? s.system.instances : 0}}},
          {"load",
           {{"model", s.load.model},
            {"connections", s.load.connections},
            {"duration_s", load.load_seconds},
            {"dropped_arrivals", load.stats.dropped()}}},
          {"healthz_ceiling_rps", r.healthz_ceiling_rps},
          {"ops", OpsJson(load)},
          {"server", ServerJson(r.server_metrics)},
          {"verification", VerificationJson(*r.verification)},
          {"faults", FaultsJson(r.faults)},
          {"checks", ChecksJson(r.checks)},
          {"passed", r.passed}};
}

}  // namespace rp::sim
