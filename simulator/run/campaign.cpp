#include "simulator/run/campaign.h"

#include <fcntl.h>
#include <unistd.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <random>

#include "common/check.h"
#include "common/claim_schemes.h"
#include "common/ledger_engines.h"
#include "common/results/run_summary.h"
#include "simulator/run/run_internal.h"
#include "simulator/scenario/scenario.h"

namespace rp::sim {

using nlohmann::json;

namespace {

// "redis_stop 2.1 s, redis_start 4.0 s, server_restart(presplit) 5.5 s"
std::string FaultList(const json& summary) {
  std::string out;
  for (const json& f : summary.value("faults", json::array())) {
    char at[32];
    std::snprintf(at, sizeof at, " %.1f s", f.value("planned_s", 0.0));
    std::string action = f.value("action", std::string("?"));
    const std::string detail = f.value("detail", std::string());
    const std::string under = "under claim scheme ";
    if (const size_t p = detail.find(under); p != std::string::npos) {
      action += "->" + detail.substr(p + under.size());
    }
    out += (out.empty() ? "" : ", ") + action + at;
  }
  return out.empty() ? "no faults" : out;
}

// Why a seed failed: the verification's violations, then each failed check's detail.
std::string WhyFailed(const json& summary, int rc) {
  if (summary.is_null()) return "the run could not be made (exit " + std::to_string(rc) + ")";
  std::string why;
  const json v = summary.value("verification", json::object());
  for (const json& violation : v.value("violations", json::array())) {
    why += (why.empty() ? "" : "; ") + violation.get<std::string>();
  }
  for (const json& c : summary.value("checks", json::array())) {
    if (!c.value("passed", true))
      why += (why.empty() ? "" : "; ") + c.value("detail", std::string());
  }
  return why.empty() ? "failed" : why;
}

}  // namespace

int RunCampaign(const CampaignOptions& o) {
  if (!o.run.target.empty() || o.run.seed != 0) {
    std::fprintf(stderr,
                 "rp-sim: a campaign starts a system per seed (its faults need one) and "
                 "draws each seed itself: --target and --seed do not apply (--from sets "
                 "the first seed)\n");
    return 2;
  }
  if (o.run.pg_stats) {  // Refused once here rather than by every seed.
    // A base that does not read is reported as such by the first seed, not as this.
    Result<Scenario> base = LoadScenario(o.run.scenario_path);
    const std::string ledger = !o.run.ledger.empty() ? o.run.ledger
                               : base.ok()           ? base->system.ledger
                                                     : std::string(kPostgresEngine);
    if (ledger != kPostgresEngine) {
      std::fprintf(stderr,
                   "rp-sim: --pg-stats needs the PostgreSQL rp-sim starts (--ledger postgres)\n");
      return 2;
    }
  }
  const std::string stem = std::filesystem::path(o.run.scenario_path).stem().string();
  const std::string out_dir = o.run.out_dir.empty()
                                  ? "results/campaign-" + stem + "-" + UtcNow("%Y%m%d-%H%M%S")
                                  : o.run.out_dir;
  const uint64_t last = o.from_seed + static_cast<uint64_t>(o.seeds) - 1;
  std::printf("rp-sim campaign: %s, seeds %llu..%llu, results in %s\n", o.run.scenario_path.c_str(),
              static_cast<unsigned long long>(o.from_seed), static_cast<unsigned long long>(last),
              out_dir.c_str());
  std::fflush(stdout);
  json seeds = json::array();
  std::map<std::string, int64_t> faults_by_kind;
  int64_t claims_verified = 0;
  int passed = 0, ran = 0;
  std::vector<std::pair<uint64_t, std::string>> failures;
  std::vector<json> summaries;  // For --junit: a test suite per seed.
  const std::string replay_flags = CampaignReplayFlags(o.run);
  for (uint64_t seed = o.from_seed; seed <= last; ++seed) {
    const auto started = std::chrono::steady_clock::now();
    Result<std::string> path =
        WriteCampaignScenario(o.run.scenario_path, seed, out_dir + "/scenarios", o.run);
    if (!path.ok()) {
      std::fprintf(stderr, "rp-sim: %s\n", path.status().message().c_str());
      return 2;
    }
    RunOptions r = o.run;
    r.scenario_path = *path;
    r.out_dir = out_dir + "/seed-" + std::to_string(seed);
    r.quiet = r.brief = true;
    json summary;
    const int rc = RunOnce(r, &summary);
    const double took_s =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    ++ran;
    const bool ok = rc == 0;
    passed += ok ? 1 : 0;
    // A run that ended before writing a summary (exit 2) has none: "?" and zeros.
    Result<results::RunSummary> read = results::FromJson(summary);
    const results::RunSummary seen = read.ok() ? *read : results::RunSummary{};
    const std::string scheme = read.ok() ? seen.system.claim_scheme : "?";
    const int64_t claims = seen.verification.claims_checked;
    claims_verified += claims;
    for (const results::SummaryFault& f : seen.faults) ++faults_by_kind[f.action];
    std::printf("seed %-6llu %s  %-8s %6lld claims verified  %4.0f s  %s\n",
                static_cast<unsigned long long>(seed), ok ? "PASSED" : "FAILED", scheme.c_str(),
                static_cast<long long>(claims), took_s,
                summary.is_null() ? "" : FaultList(summary).c_str());
    std::fflush(stdout);
    // Which engine and how many servers ran: a campaign on PostgreSQL with N instances must say
    // so in its own report, not only in each seed's summary.
    json entry = {{"seed", seed},
                  {"passed", ok},
                  {"exit_code", rc},
                  {"claim_scheme", scheme},
                  {"ledger", read.ok() ? seen.system.ledger : "?"},
                  {"instances", read.ok() ? seen.system.instances : 0},
                  {"claims_verified", claims},
                  {"seconds", took_s},
                  {"scenario", *path},
                  {"results", r.out_dir}};
    if (!ok) {
      const std::string why = WhyFailed(summary, rc);
      entry["why"] = why;
      failures.emplace_back(seed, why);
      if (!o.regressions_dir.empty()) {
        Result<std::string> kept =
            WriteCampaignScenario(o.run.scenario_path, seed, o.regressions_dir, o.run);
        if (kept.ok()) entry["regression_scenario"] = *kept;
      }
    }
    seeds.push_back(std::move(entry));
    if (!summary.is_null()) summaries.push_back(std::move(summary));
  }
  json report = {{"scenario", o.run.scenario_path},
                 {"from_seed", o.from_seed},
                 {"seeds", ran},
                 {"passed", passed},
                 {"claims_verified", claims_verified},
                 {"faults_by_kind", faults_by_kind},
                 {"runs", seeds}};
  std::ofstream(out_dir + "/campaign.json") << report.dump(2) << "\n";
  std::printf("\ncampaign: %d of %d seeds passed, %lld claims verified, %s/campaign.json\n", passed,
              ran, static_cast<long long>(claims_verified), out_dir.c_str());
  if (failures.empty()) return WriteJUnitIfAsked(o.run, summaries, 0);
  std::printf("\nfailed seeds (replay each with the command beside it):\n");
  for (const auto& [seed, why] : failures) {
    std::printf("  seed %llu: rp-sim run %s --campaign-seed %llu%s\n    %s\n",
                static_cast<unsigned long long>(seed), o.run.scenario_path.c_str(),
                static_cast<unsigned long long>(seed), replay_flags.c_str(),
                why.substr(0, 400).c_str());
  }
  if (!o.regressions_dir.empty()) {
    std::printf("each failing seed's scenario is in %s/\n", o.regressions_dir.c_str());
  }
  return WriteJUnitIfAsked(o.run, summaries, 1);
}

}  // namespace rp::sim
