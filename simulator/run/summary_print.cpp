// The end-of-run summary on stdout (rp-sim run, and each run of compare and regress).
#include <cstdio>

#include "common/ledger_engines.h"
#include "simulator/results/results.h"
#include "simulator/run/run_internal.h"

namespace rp::sim {

using nlohmann::json;

void PrintSummary(const json& s, const std::string& out_dir) {
  const json& sys = s["system"];
  const int instances = sys.value("instances", 1);
  std::printf("\n== %s: %s (scheme %s, %s ledger, %d instance%s, seed %s)\n",
              s["scenario"].get<std::string>().c_str(),
              s["passed"].get<bool>() ? "PASSED" : "FAILED",
              sys["claim_scheme"].get<std::string>().c_str(),
              sys.value("ledger", std::string(kSqliteEngine)).c_str(), instances,
              instances == 1 ? "" : "s", s["seed"].dump().c_str());
  std::printf("%-10s %9s %7s %10s %9s %9s %9s %9s\n", "op", "requests", "errors", "unanswered",
              "per s", "p50 ms", "p99 ms", "max ms");
  for (const auto& [name, op] : s["ops"].items()) {
    std::printf("%-10s %9lld %7lld %10lld %9.1f %9.2f %9.2f %9.2f\n", name.c_str(),
                static_cast<long long>(op["requests"].get<int64_t>()),
                static_cast<long long>(op["errors"].get<int64_t>()),
                static_cast<long long>(op.value("unanswered", int64_t{0})),
                op["throughput_per_s"].get<double>(), op["p50_ms"].get<double>(),
                op["p99_ms"].get<double>(), op["max_ms"].get<double>());
  }
  std::printf("%s\n", UnansweredText(s).c_str());
  for (const auto& c : s["checks"]) {
    std::printf("check %s %s\n", c["passed"].get<bool>() ? "pass" : "FAIL",
                c["detail"].get<std::string>().c_str());
  }
  const json& v = s["verification"];
  std::printf(
      "verification %s: %lld packets, %lld claims read back (%lld acknowledged); recon "
      "drift %lld cents, %lld discrepancies\n",
      v["ok"].get<bool>() ? "ok" : "FAILED",
      static_cast<long long>(v["packets_checked"].get<int64_t>()),
      static_cast<long long>(v["claims_checked"].get<int64_t>()),
      static_cast<long long>(v["claims_acknowledged"].get<int64_t>()),
      static_cast<long long>(v["recon_drift_cents"].get<int64_t>()),
      static_cast<long long>(v["recon_discrepancies"].get<int64_t>()));
  for (const auto& line : v["violations"])
    std::printf("  violation: %s\n", line.get<std::string>().c_str());
  const auto listed = static_cast<int64_t>(v["violations"].size());
  if (const int64_t total = v.value("violations_total", listed); total > listed) {
    std::printf("  ... and %lld more violations (%lld in all)\n",
                static_cast<long long>(total - listed), static_cast<long long>(total));
  }
  for (const auto& f : s["faults"]) {
    std::printf("fault at %.1f s: %s — %s\n", f["started_s"].get<double>(),
                f["action"].get<std::string>().c_str(), f["detail"].get<std::string>().c_str());
  }
  std::printf(
      "results: %s (report.html, report.md, summary.json, timeseries.csv, server_metrics.csv, "
      "faults.csv)\n",
      out_dir.c_str());
  std::fflush(stdout);
}

}  // namespace rp::sim
