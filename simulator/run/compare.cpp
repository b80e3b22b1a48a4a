// rp-sim compare / regress, and the end-of-run summary printout.
#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>

#include "simulator/results/html_report.h"
#include "simulator/run/run_internal.h"
#include "simulator/scenario/scenario.h"

namespace rp::sim {
namespace {

using nlohmann::json;

double OpValue(const json& summary, const std::string& op, const char* key) {
  if (!summary.contains("ops") || !summary["ops"].contains(op)) return 0;
  return summary["ops"][op].value(key, 0.0);
}

double ByStatus(const json& summary, const std::string& op,
                std::initializer_list<const char*> codes) {
  double n = 0;
  if (!summary.contains("ops") || !summary["ops"].contains(op)) return 0;
  const json& by = summary["ops"][op].value("by_status", json::object());
  for (const char* code : codes) n += by.value(code, 0.0);
  return n;
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
          {"claims_won", ByStatus(s, "claim", {"201"})},
          {"claims_refused", ByStatus(s, "claim", {"409", "410"})},
          {"commits_per_claim", s["server"].value("commits_per_claim", 0.0)},
          {"claim_commits_per_claim", s["server"].value("claim_commits_per_claim", 0.0)},
          {"lock_wait_seconds", s["server"].value("lock_wait_seconds", 0.0)},
          {"verification_ok", s["verification"].value("ok", false)},
          {"passed", s.value("passed", false)}};
}

std::string Range(const json& row, const char* key, const char* format) {
  if (!row.contains("spread") || !row["spread"].contains(key)) return "";
  char buf[96];
  const std::string f = std::string(" (") + format + "–" + format + ")";
  std::snprintf(buf, sizeof buf, f.c_str(), row["spread"][key][0].get<double>(),
                row["spread"][key][1].get<double>());
  return buf;
}

void WriteTable(std::ostream& md, const std::string& title, const json& rows) {
  md << "# " << title
     << "\n\n| scheme | runs | claims/s | ÷ /healthz ceiling | won | refused | p50 ms | p99 ms | "
        "claim errors | commits/claim | claim commits/claim | lock wait s | verification | "
        "passed |\n|---|---|---|---|---|---|---|---|---|---|---|---|---|---|\n";
  char buf[768];
  for (const json& r : rows) {
    std::snprintf(
        buf, sizeof buf,
        "| %s | %d | %.0f%s | %.3f%s | %.0f | %.0f | %.2f | %.2f%s | %.0f | %.3f | %.3f | "
        "%.3f | %s | %s |\n",
        r["scheme"].get<std::string>().c_str(), r.value("runs", 1), r["claims_per_s"].get<double>(),
        Range(r, "claims_per_s", "%.0f").c_str(), r["claims_per_s_per_ceiling"].get<double>(),
        Range(r, "claims_per_s_per_ceiling", "%.3f").c_str(), r.value("claims_won", 0.0),
        r.value("claims_refused", 0.0), r["claim_p50_ms"].get<double>(),
        r["claim_p99_ms"].get<double>(), Range(r, "claim_p99_ms", "%.1f").c_str(),
        r["claim_errors"].get<double>(), r["commits_per_claim"].get<double>(),
        r["claim_commits_per_claim"].get<double>(), r["lock_wait_seconds"].get<double>(),
        r["verification_ok"].get<bool>() ? "ok" : "FAILED", r["passed"].get<bool>() ? "yes" : "no");
    md << buf;
  }
}

void WriteTable(const std::string& path, const std::string& title, const json& rows) {
  std::ofstream md(path);
  WriteTable(md, title, rows);
}

// Each numeric figure's median over a scheme's runs, with its [min, max] under "spread"; the
// booleans hold only if they held in every run.
json MedianRow(const std::vector<json>& runs) {
  json row = runs.front();
  row["runs"] = static_cast<int>(runs.size());
  json spread = json::object();
  for (const auto& [key, value] : runs.front().items()) {
    if (value.is_boolean()) {
      bool all = true;
      for (const json& r : runs) all = all && r[key].get<bool>();
      row[key] = all;
    }
    if (!value.is_number()) continue;
    std::vector<double> v;
    for (const json& r : runs) v.push_back(r[key].get<double>());
    std::sort(v.begin(), v.end());
    const size_t n = v.size();
    row[key] = n % 2 == 1 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
    spread[key] = {v.front(), v.back()};
  }
  if (runs.size() > 1) row["spread"] = spread;
  return row;
}

// Which differences are real: each scheme against the best, on the figure that measures what it
// carried (saturated load: claims/s per ceiling, higher is better; offered load: p99, lower is
// better). Beyond the noise only when the ranges over the runs do not overlap.
std::vector<std::string> Verdict(const json& rows, bool saturated) {
  const char* key = saturated ? "claims_per_s_per_ceiling" : "claim_p99_ms";
  const bool higher = saturated;
  size_t best = 0;
  for (size_t i = 1; i < rows.size(); ++i) {
    const double a = rows[i][key], b = rows[best][key];
    if (higher ? a > b : a < b) best = i;
  }
  auto lo = [&](const json& r) {
    return r.contains("spread") ? r["spread"][key][0].get<double>() : r[key].get<double>();
  };
  auto hi = [&](const json& r) {
    return r.contains("spread") ? r["spread"][key][1].get<double>() : r[key].get<double>();
  };
  std::vector<std::string> out;
  const json& b = rows[best];
  char line[320];
  std::snprintf(line, sizeof line, "%s is best on %s: %.3f%s",
                b["scheme"].get<std::string>().c_str(),
                saturated ? "claims/s per /healthz ceiling" : "claim p99 (ms)",
                b[key].get<double>(), Range(b, key, "%.3f").c_str());
  out.push_back(line);
  for (size_t i = 0; i < rows.size(); ++i) {
    if (i == best) continue;
    const json& r = rows[i];
    const bool beyond = higher ? hi(r) < lo(b) : lo(r) > hi(b);
    std::snprintf(line, sizeof line, "%s: %.3f%s, %.2fx the best — %s",
                  r["scheme"].get<std::string>().c_str(), r[key].get<double>(),
                  Range(r, key, "%.3f").c_str(),
                  b[key].get<double>() > 0 ? r[key].get<double>() / b[key].get<double>() : 0.0,
                  rows[best].value("runs", 1) < 2
                      ? "one run each: rerun with --repeats 3 or more to tell it from noise"
                  : beyond ? "beyond the noise (the ranges over the runs do not overlap)"
                           : "inside the noise (the ranges overlap): no difference shown");
    out.push_back(line);
  }
  return out;
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
      "results: %s (report.html, report.md, summary.json, timeseries.csv, server_metrics.csv, "
      "faults.csv)\n",
      out_dir.c_str());
  std::fflush(stdout);
}

// --saturate: the scenario's phases become a closed model of one user per connection with no
// think time, so each scheme carries as much as it can instead of what an arrival rate offers.
void Saturate(Scenario& s) {
  s.load.model = "closed";
  for (Phase& p : s.load.phases) {
    p.users = s.load.connections;
    p.think_ms = 0;
  }
}

int RunCompare(const CompareOptions& o) {
  const std::string dir = OutDir(o.run, "compare");
  std::map<std::string, std::vector<json>> runs;
  std::vector<json> summaries;
  int worst = 0;
  bool saturated = o.saturate;
  // Round-robin with the order rotated each round: a machine that slows down during the
  // compare slows every scheme alike instead of the last one.
  for (int round = 0; round < o.repeats; ++round) {
    for (size_t k = 0; k < o.schemes.size(); ++k) {
      const std::string& scheme = o.schemes[(k + static_cast<size_t>(round)) % o.schemes.size()];
      RunOptions run = o.run;
      run.claim_scheme = scheme;
      run.out_dir = dir + "/" + scheme + (o.repeats > 1 ? "/run-" + std::to_string(round + 1) : "");
      if (o.saturate) run.edit_scenario = Saturate;
      json summary;
      const int rc = RunOnce(run, &summary);
      if (rc == 2) return 2;
      worst = std::max(worst, rc);
      saturated = saturated || summary["load"].value("model", "") == "closed";
      runs[scheme].push_back(Figures(summary));
      summaries.push_back(std::move(summary));
    }
  }
  json rows = json::array(), all = json::array();
  for (const std::string& scheme : o.schemes) {
    rows.push_back(MedianRow(runs[scheme]));
    for (const json& r : runs[scheme]) all.push_back(r);
  }
  const std::vector<std::string> verdict = Verdict(rows, saturated);
  const json compare{{"scenario", o.run.scenario_path},
                     {"repeats", o.repeats},
                     {"load", saturated ? "saturated" : "offered"},
                     {"schemes", rows},
                     {"runs", all},
                     {"verdict", verdict}};
  std::ofstream(dir + "/compare.json") << compare.dump(2) << "\n";
  std::ofstream(dir + "/compare.html") << CompareReportHtml(compare);
  {
    std::ofstream md(dir + "/compare.md");
    WriteTable(md, "Claim schemes on " + o.run.scenario_path, rows);
    md << "\n"
       << (o.repeats > 1 ? "Medians over " + std::to_string(o.repeats) +
                               " runs each (ranges in parentheses), run in rotating order."
                         : "One run each.")
       << "\n\n";
    if (!saturated) {
      md << "**Offered load (open model):** every scheme was offered the same arrivals, so "
            "claims/s is the offered rate, not what a scheme can carry. Judged on p99 instead; "
            "rerun with "
            "`--saturate` (or a closed-model scenario) to measure capacity.\n\n";
    }
    for (const std::string& line : verdict) md << "- " << line << "\n";
  }
  std::printf("\n");
  std::ifstream md(dir + "/compare.md");
  std::cout << md.rdbuf();
  std::printf("\ncompare: %s/compare.md, compare.json and compare.html\n", dir.c_str());
  return WriteJUnitIfAsked(o.run, summaries, worst);
}

int RunRegress(const RegressOptions& o) {
  std::ifstream in(o.baseline_dir + "/compare.json");
  const json baseline = json::parse(in, nullptr, false);
  if (!in || baseline.is_discarded() || !baseline.contains("schemes")) {
    std::cerr << "rp-sim: " << o.baseline_dir << "/compare.json is missing or malformed\n";
    return 2;
  }
  for (const std::string& wanted : o.schemes) {
    bool found = false;
    for (const json& base : baseline["schemes"]) found = found || base["scheme"] == wanted;
    if (!found) {
      std::cerr << "rp-sim: the baseline " << o.baseline_dir << " has no scheme " << wanted << "\n";
      return 2;
    }
  }
  const std::string dir = OutDir(o.run, "regress");
  json rows = json::array();
  std::vector<json> summaries;
  std::vector<std::string> failures;
  for (const json& base : baseline["schemes"]) {
    RunOptions run = o.run;
    run.claim_scheme = base["scheme"].get<std::string>();
    if (!o.schemes.empty() &&
        std::find(o.schemes.begin(), o.schemes.end(), run.claim_scheme) == o.schemes.end()) {
      continue;
    }
    std::vector<json> figures;
    int rc = 0;
    for (int i = 0; i < o.repeats; ++i) {
      run.out_dir =
          dir + "/" + run.claim_scheme + (o.repeats > 1 ? "/run-" + std::to_string(i + 1) : "");
      json summary;
      const int one = RunOnce(run, &summary);
      if (one == 2) return 2;
      rc = std::max(rc, one);
      figures.push_back(Figures(summary));
      summaries.push_back(std::move(summary));
    }
    const json now = MedianRow(figures);
    rows.push_back(now);
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
