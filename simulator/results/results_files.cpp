// The files of a results folder (see results.h).
#include <cstdio>
#include <filesystem>
#include <fstream>

#include "common/ledger_engines.h"
#include "simulator/results/results.h"

#include "common/results/results_format.h"
#include "simulator/results/html_report.h"

namespace rp::sim {
namespace {

using nlohmann::json;

std::string F(double v, int digits = 2);

// What the load's work cost per claim won: CPU by part and the work counters (summary "cost").
void WriteCostSection(std::ostream& out, const json& cost) {
  if (cost.empty()) return;
  auto figure = [&cost](const char* key, int digits) {
    const json v = cost.value(key, json());
    return v.is_number() ? F(v.get<double>(), digits) : std::string("not measured");
  };
  out << "\n## Cost per claim won, over the load\n\n"
      << F(cost.value("claims_won", 0.0), 0)
      << " claims won. CPU (user + system, from the kernel): " << figure("cpu_ms_per_claim", 4)
      << " ms per claim for rp-server, Redis, PostgreSQL and HAProxy together (";
  std::string parts;
  const json cpu_seconds = cost.value("cpu_seconds", json::object());  // items() needs a named json
  for (const auto& [part, seconds] : cpu_seconds.items()) {
    parts += (parts.empty() ? "" : ", ") + part + " " + F(seconds.get<double>(), 2) + " s";
  }
  out << (parts.empty() ? "not read: a server rp-sim did not start" : parts)
      << "). Ledger statements " << figure("statements_per_claim", 2) << ", commits "
      << figure("commits_per_claim", 3) << " (holding claims "
      << figure("claim_commits_per_claim", 3) << "), Redis round trips "
      << figure("redis_round_trips_per_claim", 2) << "; waits for the packet's lock "
      << figure("lock_wait_ms_per_claim", 3) << " ms, for a ledger connection "
      << figure("pool_wait_ms_per_claim", 3) << " ms.\n";
  for (const json& why : cost.value("incomplete", json::array())) {
    out << "- incomplete: " << why.get<std::string>() << "\n";
  }
}

std::string F(double v, int digits) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", digits, v);
  return buf;
}

// Status counts grouped into the columns of timeseries.csv.
struct StatusColumns {
  int64_t s200 = 0, s201 = 0, s409 = 0, s410 = 0, other4xx = 0, s5xx = 0, transport = 0;
  explicit StatusColumns(const std::map<int, int64_t>& by) {
    for (auto [code, n] : by) {
      if (code == 200)
        s200 += n;
      else if (code == 201)
        s201 += n;
      else if (code == 409)
        s409 += n;
      else if (code == 410)
        s410 += n;
      else if (code >= 500)
        s5xx += n;
      else if (code == 0)
        transport += n;
      else
        other4xx += n;
    }
  }
};

std::vector<results::TimeseriesRow> TimeseriesRows(const LoadOutcome& load) {
  std::vector<results::TimeseriesRow> rows;
  for (const auto& [name, op] : load.stats.ops()) {
    for (size_t sec = 0; sec < op.seconds.size(); ++sec) {
      const SecondStats& s = op.seconds[sec];
      if (s.requests == 0) continue;
      StatusColumns c(s.by_status);
      rows.push_back({static_cast<int64_t>(sec), name, s.requests, s.errors, c.s200, c.s201, c.s409,
                      c.s410, c.other4xx, c.s5xx, c.transport,
                      s.latency.ValueAtQuantile(0.5) / 1000.0,
                      s.latency.ValueAtQuantile(0.9) / 1000.0,
                      s.latency.ValueAtQuantile(0.99) / 1000.0, s.latency.max_us() / 1000.0});
    }
  }
  auto arrival_rows = [&rows](const std::vector<int64_t>& per_second, const char* op, bool errors) {
    for (size_t sec = 0; sec < per_second.size(); ++sec) {
      if (per_second[sec] == 0) continue;
      results::TimeseriesRow r;
      r.second = static_cast<int64_t>(sec);
      r.op = op;
      r.requests = per_second[sec];
      r.errors = errors ? per_second[sec] : 0;
      rows.push_back(r);
    }
  };
  arrival_rows(load.stats.dropped_per_second(), results::kDroppedArrival, true);
  arrival_rows(load.stats.arrivals_per_second(), results::kOfferedArrival, false);
  return rows;
}

results::ServerMetricsTable MetricsTable(const std::vector<MetricsRow>& rows,
                                         const std::vector<std::string>& columns) {
  results::ServerMetricsTable t;
  t.metrics = columns.empty() ? MetricsScraper::Columns() : columns;
  for (const MetricsRow& r : rows) t.rows.push_back({r.elapsed_s, r.instances_up, r.values});
  return t;
}

std::vector<results::FaultRow> FaultRows(const std::vector<FaultRecord>& faults) {
  std::vector<results::FaultRow> rows;
  for (const FaultRecord& f : faults) {
    rows.push_back({f.planned_s, f.started_s, f.ended_s, f.action, f.ok, f.detail});
  }
  return rows;
}

// The verification's paragraph and its violations.
void WriteVerification(std::ofstream& out, const results::SummaryVerification& v) {
  out << "\n## Verification\n\n"
      << (v.ok ? "Clean" : "**Violations found**") << ": " << v.packets_checked << " packets and "
      << v.claims_checked << " claims read back; " << v.claims_acknowledged
      << " acknowledged claims all " << (v.ok ? "present" : "checked")
      << "; transfers checked against the wallet: " << (v.transfers_checked ? "yes" : "no")
      << "; reconciliation ";
  if (v.recon_answered) {
    out << "clean: " << (v.recon_clean ? "yes" : "no") << " (drift " << v.recon_drift_cents
        << " cents, " << v.recon_discrepancies << " discrepancies).\n";
  } else {
    out << "(/admin/recon) did not answer.\n";
  }
  for (const std::string& line : v.violations) out << "- " << line << "\n";
  const auto listed = static_cast<int64_t>(v.violations.size());
  if (v.violations_total > listed) {
    out << "- ... and " << v.violations_total - listed << " more (" << v.violations_total
        << " violations in all)\n";
  }
}

// ", subsidy mode `hybrid`, queue `outbox`": what the started server ran with; "" for a server
// rp-sim did not start.
std::string ServerSettingsText(const results::SummarySystem& system) {
  std::string out;
  for (const auto& [key, label] :
       {std::pair{"subsidy.mode", "subsidy mode"}, std::pair{"async.queue", "queue"},
        std::pair{"packet.ttl_s", "packet TTL (s)"}}) {
    auto v = system.server_settings.find(key);
    if (v == system.server_settings.end()) continue;
    out += std::string(", ") + label + " `" + (v->is_string() ? v->get<std::string>() : v->dump()) +
           "`";
  }
  return out;
}

void WriteOperations(std::ofstream& out, const results::RunSummary& s) {
  out << "## Operations\n\nLatency from each request's intended start (coordinated omission "
         "included).\n\n| op | requests | errors | error % | unanswered | per s | p50 ms | p90 ms "
         "| "
         "p99 ms | max ms | by status |\n|---|---|---|---|---|---|---|---|---|---|---|\n";
  for (const auto& [name, op] : s.ops) {
    std::string codes;
    for (const auto& [code, n] : op.by_status) {
      codes += (codes.empty() ? "" : ", ") + code + ": " + std::to_string(n);
    }
    out << "| " << name << " | " << op.requests << " | " << op.errors << " | "
        << F(op.error_rate_percent) << " | " << op.unanswered << " | " << F(op.throughput_per_s, 1)
        << " | " << F(op.p50_ms) << " | " << F(op.p90_ms) << " | " << F(op.p99_ms) << " | "
        << F(op.max_ms) << " | " << codes << " |\n";
  }
  out << "\nArrivals dropped at the in-flight bound: " << s.load.dropped_arrivals << ".\n";
}

// report.md from the summary: the struct for its fields, the JSON for the parts that are
// documents of their own (unanswered, cost, server counters).
void WriteReport(std::ofstream& out, const results::RunSummary& s, const json& summary) {
  out << "# rp-sim run: " << s.scenario << "\n\n"
      << s.description << "\n\n"
      << "**Verdict: " << (s.passed ? "PASSED" : "FAILED") << "**  \n"
      << "Started " << s.started_at << " against " << s.target << "; seed " << s.seed
      << "; claim scheme `" << s.system.claim_scheme << "`" << ServerSettingsText(s.system)
      << "; ledger "
      << results::DescribeSystem(s.system.ledger, s.system.instances, s.system.started_by_rp_sim)
      << "; " << s.load.model << " model, " << s.load.connections << " connections, "
      << F(s.load.duration_s, 1)
      << " s of load. `/healthz` ceiling in this run: " << F(s.healthz_ceiling_rps, 0)
      << " req/s (median of " << json(s.healthz_ceiling_samples_rps).dump() << "). rp-sim "
      << s.versions.at("rp_sim") << ".\n\n";
  WriteOperations(out, s);
  if (const std::string unanswered = UnansweredText(summary); !unanswered.empty()) {
    out << "\nRequests without an answer (a timeout, a connection refused or lost, a proxy's "
           "502/504), "
        << unanswered.substr(std::string("unanswered: ").size()) << ".\n";
  }
  out << "\n## Checks\n\n";
  if (s.checks.empty()) out << "(none in the scenario)\n";
  for (const results::SummaryCheck& c : s.checks) {
    out << "- " << (c.passed ? "pass" : "**FAIL**") << " `" << c.check << "`: " << c.detail << "\n";
  }
  WriteVerification(out, s.verification);
  const json& sv = s.server;
  out << "\n## Server counters over the run\n\nclaim attempts (every claim answered, won or "
         "not) "
      << F(sv.value("claim_attempts", 0.0), 0) << ", ledger commits "
      << F(sv.value("ledger_commits", 0.0), 0) << " ("
      << F(sv.value("commits_per_claim_attempt", 0.0), 3) << " per attempt), DB busy retries "
      << F(sv.value("db_busy_retries", 0.0), 0) << ", lock wait "
      << F(sv.value("lock_wait_seconds", 0.0), 3) << " s, scheme fallbacks "
      << F(sv.value("scheme_fallbacks", 0.0), 0) << ", Redis errors "
      << F(sv.value("redis_errors", 0.0), 0) << ".\n";
  WriteCostSection(out, s.cost);
  out << "\n## Faults\n\n";
  if (s.faults.empty()) out << "(none)\n";
  for (const results::SummaryFault& f : s.faults) {
    out << "- at " << F(f.started_s, 1) << " s (planned " << F(f.planned_s, 1) << ", took "
        << F(f.ended_s - f.started_s, 2) << " s): " << f.action << " — " << f.detail << "\n";
  }
  out << "\nFiles: `summary.json`, `timeseries.csv`, `server_metrics.csv`, `faults.csv`, "
         "`history.jsonl` (every money-moving request and its outcome), `report.html` (this report "
         "with charts, self-contained).\n";
}

// history.jsonl: one JSON object per money-moving request, in completion order.
void WriteHistory(std::ostream& out, const Observed& o) {
  for (const HistoryEvent& e : o.history) {
    json line = {{"op", e.op},
                 {"invoked_ms", e.invoked_ms},
                 {"completed_ms", e.completed_ms},
                 {"outcome", e.outcome()},
                 {"status", e.status},
                 {"user_id", e.user_id}};
    if (e.packet_id != 0) line["packet_id"] = e.packet_id;
    if (e.claim_id != 0) line["claim_id"] = e.claim_id;
    if (e.amount_cents != 0) line["amount_cents"] = e.amount_cents;
    out << line.dump() << '\n';
  }
}

}  // namespace

Status WriteResults(const std::string& dir, const RunReport& report) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) return Internal("cannot create " + dir + ": " + ec.message());
  const results::RunSummary run = Summary(report);
  const json summary = results::ToJson(run);
  std::ofstream(dir + "/" + results::kSummaryFile) << summary.dump(2) << '\n';
  std::ofstream ts(dir + "/" + results::kTimeseriesFile);
  results::WriteTimeseries(ts, TimeseriesRows(*report.load), report.load_started_unix_ms);
  std::ofstream sm(dir + "/" + results::kServerMetricsFile);
  results::WriteServerMetrics(sm, MetricsTable(report.server_metrics, report.server_columns),
                              report.load_started_unix_ms);
  std::ofstream fa(dir + "/" + results::kFaultsFile);
  results::WriteFaults(fa, FaultRows(report.faults), report.load_started_unix_ms);
  std::ofstream md(dir + "/" + results::kReportFile);
  WriteReport(md, run, summary);
  std::ofstream hist(dir + "/" + results::kHistoryFile);
  WriteHistory(hist, report.load->observed);
  if (!ts || !sm || !fa || !md || !hist)
    return Internal("writing the results in " + dir + " failed");
  ts.close();
  sm.close();
  fa.close();
  return WriteRunReportHtml(dir);  // From the files just written, as for any results folder.
}

}  // namespace rp::sim
