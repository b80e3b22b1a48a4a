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

double MaxValue(const std::vector<MetricsRow>& rows, const std::string& name) {
  const size_t c = Column(name);
  double best = 0;
  for (const MetricsRow& r : rows) {
    if (r.up && c < r.values.size()) best = std::max(best, r.values[c]);
  }
  return best;
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

// The end (whole seconds from the load's start) of the busiest stretch of the plan: the phase
// with the highest arrival rate, or a spike's end.
int64_t BusiestEndS(const Scenario& s) {
  int64_t start_s = 0, end_s = 0;
  double best = -1;
  for (const Phase& p : s.load.phases) {
    double rate = std::max(p.rate, p.rate_end);
    int64_t phase_end = start_s + p.duration_s;
    if (p.shape == "spike" && p.spike_rate > rate) {
      rate = p.spike_rate;
      phase_end = start_s + p.spike_at_s + p.spike_s;
    }
    if (p.users > rate) rate = p.users;
    if (rate > best) {
      best = rate;
      end_s = phase_end;
    }
    start_s += p.duration_s;
  }
  return end_s;
}

namespace {
json ServerJson(const std::vector<MetricsRow>& rows);  // Below, with the other summary parts.
}  // namespace

std::vector<CheckResult> EvaluateChecks(const Scenario& s, const LoadOutcome& load,
                                        const VerificationReport& v,
                                        const std::vector<MetricsRow>& server_metrics) {
  std::vector<CheckResult> out;
  const json server = ServerJson(server_metrics);
  for (const CheckSpec& c : s.checks) {
    CheckResult r;
    r.check = c.text;
    std::string unit;
    if (c.metric.rfind("server.", 0) == 0) {
      const json& value = server.value(c.metric.substr(7), json());
      if (!value.is_number() || server_metrics.empty()) {
        r.detail = "the server's " + c.metric.substr(7) + " was not scraped";
        out.push_back(r);
        continue;
      }
      r.actual = value.get<double>();
    } else if (c.metric == "recon.drift") {
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
      } else if (c.metric == "refused_rate") {
        r.actual = 100.0 * static_cast<double>(op.refused) / static_cast<double>(op.requests);
        unit = "%";
      } else if (c.metric == "degraded") {
        r.actual = static_cast<double>(op.degraded);
      } else if (c.metric == "recovery_s") {
        r.actual = load.stats.RecoveryS(c.op, BusiestEndS(s));
        unit = " s";
        if (r.actual < 0) {
          r.detail = c.op + " never recovered after the busiest phase";
          out.push_back(r);
          continue;
        }
      } else if (c.metric.rfind("admitted_", 0) == 0) {
        const std::string m = c.metric.substr(9);
        const double q = m == "p50" ? 0.5 : m == "p90" ? 0.9 : m == "p99" ? 0.99 : 1.0;
        r.actual = Ms(op.admitted_latency.ValueAtQuantile(q));
        unit = " ms";
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
                 {"refused", op.refused},
                 {"degraded", op.degraded},
                 {"admitted_p99_ms", Ms(op.admitted_latency.ValueAtQuantile(0.99))},
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
          {"limit_refusals", CounterIncrease(rows, Column("rp_limit_refused_total"))},
          {"limit_shadow_refusals", CounterIncrease(rows, Column("rp_limit_shadow_refused_total"))},
          {"degraded_answers", CounterIncrease(rows, Column("rp_degraded_answers_total"))},
          {"breakers_open_max", MaxValue(rows, "rp_breakers_open")},
          {"breakers_open_last", LastValue(rows, "rp_breakers_open")},
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
