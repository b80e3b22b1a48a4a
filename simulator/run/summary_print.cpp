// The end-of-run summary on stdout (rp-sim run, and each run of compare and regress).
#include <cstdio>

#include "common/results/run_summary.h"
#include "simulator/results/results.h"
#include "simulator/run/run_internal.h"

namespace rp::sim {

using nlohmann::json;

void PrintSummary(const json& summary, const std::string& out_dir) {
  Result<results::RunSummary> read = results::FromJson(summary);
  if (!read.ok()) {
    std::printf("rp-sim: %s\n", read.status().ToString().c_str());
    return;
  }
  const results::RunSummary& s = *read;
  std::printf("\n== %s: %s (scheme %s, %s ledger, %d instance%s, seed %llu)\n", s.scenario.c_str(),
              s.passed ? "PASSED" : "FAILED", s.system.claim_scheme.c_str(),
              s.system.ledger.c_str(), s.system.instances, s.system.instances == 1 ? "" : "s",
              static_cast<unsigned long long>(s.seed));
  std::printf("%-10s %9s %7s %10s %9s %9s %9s %9s\n", "op", "requests", "errors", "unanswered",
              "per s", "p50 ms", "p99 ms", "max ms");
  for (const auto& [name, op] : s.ops) {
    std::printf("%-10s %9lld %7lld %10lld %9.1f %9.2f %9.2f %9.2f\n", name.c_str(),
                static_cast<long long>(op.requests), static_cast<long long>(op.errors),
                static_cast<long long>(op.unanswered), op.throughput_per_s, op.p50_ms, op.p99_ms,
                op.max_ms);
  }
  std::printf("%s\n", UnansweredText(summary).c_str());
  for (const results::SummaryCheck& c : s.checks) {
    std::printf("check %s %s\n", c.passed ? "pass" : "FAIL", c.detail.c_str());
  }
  const results::SummaryVerification& v = s.verification;
  std::printf(
      "verification %s: %lld packets, %lld claims read back (%lld acknowledged); recon "
      "drift %lld cents, %lld discrepancies\n",
      v.ok ? "ok" : "FAILED", static_cast<long long>(v.packets_checked),
      static_cast<long long>(v.claims_checked), static_cast<long long>(v.claims_acknowledged),
      static_cast<long long>(v.recon_drift_cents), static_cast<long long>(v.recon_discrepancies));
  for (const std::string& line : v.violations) std::printf("  violation: %s\n", line.c_str());
  const auto listed = static_cast<int64_t>(v.violations.size());
  if (v.violations_total > listed) {
    std::printf("  ... and %lld more violations (%lld in all)\n",
                static_cast<long long>(v.violations_total - listed),
                static_cast<long long>(v.violations_total));
  }
  for (const results::SummaryFault& f : s.faults) {
    std::printf("fault at %.1f s: %s — %s\n", f.started_s, f.action.c_str(), f.detail.c_str());
  }
  std::printf(
      "results: %s (report.html, report.md, summary.json, timeseries.csv, server_metrics.csv, "
      "faults.csv)\n",
      out_dir.c_str());
  std::fflush(stdout);
}

}  // namespace rp::sim
