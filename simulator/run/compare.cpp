// rp-sim compare / regress, and the end-of-run summary printout.
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>

#include "simulator/run/run_internal.h"

namespace rp::sim {
namespace {

using nlohmann::json;

double OpValue(const json& summary, const std::string& op, const char* key) {
  if (!summary.contains("ops") || !summary["ops"].contains(op)) return 0;
  return summary["ops"][op].value(key, 0.0);
}

// The figures a scheme is judged by, from one summary.json.
json Figures(const json& s) {
  const double ceiling = s.value("healthz_ceiling_rps", 0.0);
  const double claims_per_s = OpValue(s, "claim", "throughput_per_s");
  return {{"scheme", s["system"]["claim_scheme"]},
          {"claims_per_s", claims_per_s},
          {"healthz_ceiling_rps", ceiling},
          {"claims_per_s_per_ceiling", ceiling > 0 ? claims_per_s / ceiling : 0.0},
          {"claim_p50_ms", OpValue(s, "claim", "p50_ms")},
          {"claim_p99_ms", OpValue(s, "claim", "p99_ms")},
          {"claim_p99_x_ceiling", OpValue(s, "claim", "p99_ms") * ceiling / 1000.0},
          {"claim_errors", OpValue(s, "claim", "errors")},
          {"commits_per_claim", s["server"].value("commits_per_claim", 0.0)},
          {"claim_commits_per_claim", s["server"].value("claim_commits_per_claim", 0.0)},
          {"lock_wait_seconds", s["server"].value("lock_wait_seconds", 0.0)},
          {"verification_ok", s["verification"].value("ok", false)},
          {"passed", s.value("passed", false)}};
}

void WriteTable(const std::string& path, const std::string& title, const json& rows) {
  std::ofstream md(path);
  md << "# " << title
     << "\n\n| scheme | claims/s | ÷ /healthz ceiling | p50 ms | p99 ms | claim "
        "errors | commits/claim | claim commits/claim | lock wait s | verification | run passed "
        "|\n|---|---|---|---|---|---|---|---|---|---|---|\n";
  char buf[512];
  for (const json& r : rows) {
    std::snprintf(buf, sizeof buf,
                  "| %s | %.0f | %.3f | %.2f | %.2f | %.0f | %.3f | %.3f | %.3f | %s | %s |\n",
                  r["scheme"].get<std::string>().c_str(), r["claims_per_s"].get<double>(),
                  r["claims_per_s_per_ceiling"].get<double>(), r["claim_p50_ms"].get<double>(),
                  r["claim_p99_ms"].get<double>(), r["claim_errors"].get<double>(),
                  r["commits_per_claim"].get<double>(), r["claim_commits_per_claim"].get<double>(),
                  r["lock_wait_seconds"].get<double>(),
                  r["verification_ok"].get<bool>() ? "ok" : "FAILED",
                  r["passed"].get<bool>() ? "yes" : "no");
    md << buf;
  }
}

std::string OutDir(const RunOptions& o, const std::string& what) {
  if (!o.out_dir.empty()) return o.out_dir;
  const std::string stem = std::filesystem::path(o.scenario_path).stem().string();
  return "results/" + what + "-" + stem + "-" + std::to_string(std::time(nullptr));
}

}  // namespace

void PrintSummary(const json& s, const std::string& out_dir) {
  const json& sys = s["system"];
  const int instances = sys.value("instances", 1);
  std::printf("\n== %s: %s (scheme %s, %s ledger, %d instance%s, seed %s)\n",
              s["scenario"].get<std::string>().c_str(),
              s["passed"].get<bool>() ? "PASSED" : "FAILED",
              sys["claim_scheme"].get<std::string>().c_str(), sys.value("ledger", "sqlite").c_str(),
              instances, instances == 1 ? "" : "s", s["seed"].dump().c_str());
  std::printf("%-10s %9s %7s %9s %9s %9s %9s\n", "op", "requests", "errors", "per s", "p50 ms",
              "p99 ms", "max ms");
  for (const auto& [name, op] : s["ops"].items()) {
    std::printf("%-10s %9lld %7lld %9.1f %9.2f %9.2f %9.2f\n", name.c_str(),
                static_cast<long long>(op["requests"].get<int64_t>()),
                static_cast<long long>(op["errors"].get<int64_t>()),
                op["throughput_per_s"].get<double>(), op["p50_ms"].get<double>(),
                op["p99_ms"].get<double>(), op["max_ms"].get<double>());
  }
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
  for (const auto& f : s["faults"]) {
    std::printf("fault at %.1f s: %s — %s\n", f["started_s"].get<double>(),
                f["action"].get<std::string>().c_str(), f["detail"].get<std::string>().c_str());
  }
  std::printf(
      "results: %s (report.md, summary.json, timeseries.csv, server_metrics.csv, "
      "faults.csv)\n",
      out_dir.c_str());
  std::fflush(stdout);
}

int RunCompare(const CompareOptions& o) {
  const std::string dir = OutDir(o.run, "compare");
  json rows = json::array();
  std::vector<json> summaries;
  int worst = 0;
  for (const std::string& scheme : o.schemes) {
    RunOptions run = o.run;
    run.claim_scheme = scheme;
    run.out_dir = dir + "/" + scheme;
    json summary;
    const int rc = RunOnce(run, &summary);
    if (rc == 2) return 2;
    worst = std::max(worst, rc);
    rows.push_back(Figures(summary));
    summaries.push_back(std::move(summary));
  }
  std::ofstream(dir + "/compare.json")
      << json{{"scenario", o.run.scenario_path}, {"schemes", rows}}.dump(2) << "\n";
  WriteTable(dir + "/compare.md", "Claim schemes on " + o.run.scenario_path, rows);
  std::printf("\n");
  std::ifstream md(dir + "/compare.md");
  std::cout << md.rdbuf();
  std::printf("\ncompare: %s/compare.md and compare.json\n", dir.c_str());
  return WriteJUnitIfAsked(o.run, summaries, worst);
}

int RunRegress(const RegressOptions& o) {
  std::ifstream in(o.baseline_dir + "/compare.json");
  const json baseline = json::parse(in, nullptr, false);
  if (!in || baseline.is_discarded() || !baseline.contains("schemes")) {
    std::cerr << "rp-sim: " << o.baseline_dir << "/compare.json is missing or malformed\n";
    return 2;
  }
  const std::string dir = OutDir(o.run, "regress");
  json rows = json::array();
  std::vector<json> summaries;
  std::vector<std::string> failures;
  for (const json& base : baseline["schemes"]) {
    RunOptions run = o.run;
    run.claim_scheme = base["scheme"].get<std::string>();
    run.out_dir = dir + "/" + run.claim_scheme;
    json summary;
    const int rc = RunOnce(run, &summary);
    if (rc == 2) return 2;
    const json now = Figures(summary);
    rows.push_back(now);
    summaries.push_back(summary);
    const std::string who = run.claim_scheme + ": ";
    if (rc != 0) failures.push_back(who + "the run failed its checks or verification");
    const double rate = now["claims_per_s_per_ceiling"],
                 base_rate = base["claims_per_s_per_ceiling"];
    if (rate < base_rate * (1 - o.throughput_tolerance)) {
      failures.push_back(who + "claims/s per ceiling " + std::to_string(rate) + " < baseline " +
                         std::to_string(base_rate) + " x " +
                         std::to_string(1 - o.throughput_tolerance));
    }
    const double p99 = now["claim_p99_x_ceiling"], base_p99 = base["claim_p99_x_ceiling"];
    if (base_p99 > 0 && p99 > base_p99 * o.latency_factor) {
      failures.push_back(who + "p99 x ceiling " + std::to_string(p99) + " > baseline " +
                         std::to_string(base_p99) + " x " + std::to_string(o.latency_factor));
    }
    if (now["claim_errors"].get<double>() > base["claim_errors"].get<double>()) {
      failures.push_back(who + "claim errors " + now["claim_errors"].dump() + " > baseline " +
                         base["claim_errors"].dump());
    }
    const double commits = now["claim_commits_per_claim"];
    const double base_commits = base.value("claim_commits_per_claim", 0.0);
    if (base_commits > 0 && commits > base_commits * o.claim_commits_factor) {
      failures.push_back(who + "ledger commits holding claims, per claim, " +
                         std::to_string(commits) + " > baseline " + std::to_string(base_commits) +
                         " x " + std::to_string(o.claim_commits_factor) +
                         " (the scheme shares fewer commits)");
    }
  }
  WriteTable(dir + "/regress.md", "Regression run against " + o.baseline_dir, rows);
  std::ofstream(dir + "/regress.json")
      << json{{"baseline", o.baseline_dir}, {"schemes", rows}, {"failures", failures}}.dump(2)
      << "\n";
  std::printf("\nregress against %s: %s\n", o.baseline_dir.c_str(),
              failures.empty() ? "no regression" : "REGRESSION");
  for (const std::string& f : failures) std::printf("  %s\n", f.c_str());
  std::printf("regress: %s/regress.md\n", dir.c_str());
  return WriteJUnitIfAsked(o.run, summaries, failures.empty() ? 0 : 1);
}

}  // namespace rp::sim
