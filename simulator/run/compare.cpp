// rp-sim compare: one run per claim scheme, repeated in rotating order, side by side.
#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>

#include "simulator/results/html_report.h"
#include "simulator/run/figures.h"
#include "simulator/run/run_internal.h"
#include "simulator/scenario/scenario.h"
#include "simulator/stats/rank_test.h"

namespace rp::sim {
namespace {

using nlohmann::json;

// A difference between two schemes is called real at this one-sided Mann-Whitney p (3 runs
// against 3 reach 0.05 at best: every run of one below every run of the other).
constexpr double kCompareSignificance = 0.05;

std::vector<double> RunValues(const std::vector<json>& runs, const char* key) {
  std::vector<double> v;
  for (const json& r : runs) {
    if (r.contains(key) && r[key].is_number()) v.push_back(r[key].get<double>());
  }
  return v;
}

// One verdict line per figure: the best scheme on it, and each other scheme against the best with
// the rank test's p (is the other worse?).
std::vector<std::string> VerdictOn(const json& rows,
                                   const std::map<std::string, std::vector<json>>& runs,
                                   const char* key, const char* what, bool higher_is_better) {
  std::vector<std::string> out;
  int best = -1;
  for (size_t i = 0; i < rows.size(); ++i) {
    if (!rows[i].contains(key) || !rows[i][key].is_number()) continue;
    const double v = rows[i][key];
    if (best < 0 || (higher_is_better ? v > rows[best][key].get<double>()
                                      : v < rows[best][key].get<double>())) {
      best = static_cast<int>(i);
    }
  }
  if (best < 0) return out;
  const json& b = rows[best];
  const std::string bs = b["scheme"];
  out.push_back(bs + " is best on " + what + ": " + WithRange(b, key, "%.4g"));
  for (size_t i = 0; i < rows.size(); ++i) {
    if (static_cast<int>(i) == best || !rows[i].contains(key) || !rows[i][key].is_number())
      continue;
    const std::string scheme = rows[i]["scheme"];
    std::vector<double> a = RunValues(runs.at(scheme), key), c = RunValues(runs.at(bs), key);
    if (higher_is_better) {  // "worse" means lower: compare the negated figures.
      for (double& v : a) v = -v;
      for (double& v : c) v = -v;
    }
    const RankTest t = MannWhitneyGreater(a, c);
    const double ratio =
        b[key].get<double>() != 0 ? rows[i][key].get<double>() / b[key].get<double>() : 0;
    char line[400];
    std::snprintf(line, sizeof line,
                  "%s: %s, %.2fx the best — %s (Mann-Whitney p = %.3g, %zu vs %zu runs)",
                  scheme.c_str(), WithRange(rows[i], key, "%.4g").c_str(), ratio,
                  SmallestPValue(a.size(), c.size()) > kCompareSignificance
                      ? "too few runs to tell from noise: rerun with --repeats 3 or more"
                  : t.p_value <= kCompareSignificance ? "a real difference"
                                                      : "inside the noise: no difference shown",
                  t.p_value, a.size(), c.size());
    out.push_back(line);
  }
  return out;
}

std::vector<std::string> Verdict(const json& rows,
                                 const std::map<std::string, std::vector<json>>& runs,
                                 bool saturated) {
  std::vector<std::string> out = VerdictOn(rows, runs, "cpu_per_claim_in_healthz",
                                           "CPU per claim won (in /healthz answers)", false);
  const std::vector<std::string> load =
      saturated
          ? VerdictOn(rows, runs, "claims_per_s_per_ceiling", "claims/s per /healthz ceiling", true)
          : VerdictOn(rows, runs, "claim_p99_ms", "claim p99 (ms)", false);
  out.insert(out.end(), load.begin(), load.end());
  for (const json& r : rows) {
    for (const json& e : r.value("measurement_errors", json::array())) {
      out.push_back(r["scheme"].get<std::string>() +
                    ": measurement error: " + e.get<std::string>());
    }
  }
  return out;
}

// compare.md's first line: did every run pass, and who is cheapest and fastest.
std::string Headline(const json& rows, const std::vector<std::string>& verdict) {
  int failed = 0, runs = 0;
  for (const json& r : rows) {
    runs += r.value("runs", 1);
    failed += r.value("passed", false) ? 0 : 1;
  }
  std::string head = failed > 0 ? "# Verdict: FAILED — " + std::to_string(failed) +
                                      " scheme(s) had a run that failed its checks or verification"
                                : "# Verdict: all " + std::to_string(runs) + " runs passed";
  for (const std::string& line : verdict) {
    if (line.find(" is best on ") != std::string::npos) head += "; " + line;
  }
  return head;
}

std::string OutDir(const RunOptions& o, const std::string& what) {
  if (!o.out_dir.empty()) return o.out_dir;
  const std::string stem = std::filesystem::path(o.scenario_path).stem().string();
  return "results/" + what + "-" + stem + "-" + std::to_string(std::time(nullptr));
}

}  // namespace

std::string ResultsDir(const RunOptions& o, const std::string& what) {
  return OutDir(o, what);
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
      saturated = saturated || summary.value("load", json::object()).value("model", "") == "closed";
      runs[scheme].push_back(Figures(summary));
      summaries.push_back(std::move(summary));
    }
  }
  json rows = json::array(), all = json::array();
  for (const std::string& scheme : o.schemes) {
    rows.push_back(MedianRow(runs[scheme]));
    for (const json& r : runs[scheme]) all.push_back(r);
  }
  const std::vector<std::string> verdict = Verdict(rows, runs, saturated);
  const json compare{{"scenario", o.run.scenario_path},
                     {"repeats", o.repeats},
                     {"load", saturated ? "saturated" : "offered"},
                     {"exact", o.run.exact},
                     {"build", BuildJson()},
                     {"machine", MachineJson()},
                     {"system", summaries.front()["system"]},
                     {"seed", summaries.front()["seed"]},
                     {"made_at", UtcNow("%Y-%m-%dT%H:%M:%SZ")},
                     {"schemes", rows},
                     {"runs", all},
                     {"verdict", verdict}};
  std::ofstream(dir + "/compare.json") << compare.dump(2) << "\n";
  std::ofstream(dir + "/compare.html") << CompareReportHtml(compare);
  {
    std::ofstream md(dir + "/compare.md");
    md << Headline(rows, verdict) << "\n\n## Reasons\n\n";
    for (const std::string& line : verdict) md << "- " << line << "\n";
    md << "\n## Claim schemes on " << o.run.scenario_path << "\n\n";
    WriteFigureTable(md, rows);
    md << "\n"
       << (o.repeats > 1 ? "Medians over " + std::to_string(o.repeats) +
                               " runs each (ranges in parentheses), run in rotating order."
                         : "One run each.")
       << " Cost figures are per claim won, over the load; CPU is what the kernel charged "
          "rp-server, "
          "Redis, PostgreSQL and HAProxy. Build "
       << compare["build"]["kind"].get<std::string>() << ", commit "
       << compare["build"]["commit"].get<std::string>() << ", "
       << compare["machine"]["cpu_model"].get<std::string>() << ".\n\n";
    if (!saturated) {
      md << "**Offered load (open model):** every scheme was offered the same arrivals, so "
            "claims/s is the offered rate, not what a scheme can carry. Judged on p99 instead; "
            "rerun with `--saturate` (or a closed-model scenario) to measure capacity.\n";
    }
  }
  std::printf("\n");
  std::ifstream md(dir + "/compare.md");
  std::cout << md.rdbuf();
  std::printf("\ncompare: %s/compare.md, compare.json and compare.html\n", dir.c_str());
  return WriteJUnitIfAsked(o.run, summaries, worst);
}

}  // namespace rp::sim
