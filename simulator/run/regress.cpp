// rp-sim regress: the runs of a baseline's schemes again, judged by the gate (gate.h).
#include <algorithm>
#include <cstdio>
#include <fstream>
#include <iostream>

#include "common/claim_schemes.h"
#include "simulator/run/figures.h"
#include "simulator/run/gate.h"
#include "simulator/run/run_internal.h"

namespace rp::sim {
namespace {

using nlohmann::json;

// How to make a baseline with the build at hand, for the refusal's message.
std::string HowToMakeBaseline(const RegressOptions& o, const json& baseline) {
  std::string schemes;
  for (const json& s : baseline["schemes"]) {
    schemes += (schemes.empty() ? "" : ",") + s.value("scheme", std::string());
  }
  return "make a baseline with this build: rp-sim compare " + o.run.scenario_path + " --schemes " +
         schemes + (o.run.exact ? " --repeats 2 --exact" : " --repeats 5") +
         " --out DIR (then --baseline DIR)";
}

// Exit 2 when the baseline cannot judge this build; the other differences, said and kept.
int CheckBaseline(const RegressOptions& o, const json& baseline, std::vector<std::string>* notes) {
  const json build = baseline.value("build", json());
  if (!build.is_object()) {
    std::cerr << "rp-sim: " << o.baseline_dir
              << "/compare.json does not say which build made it (an old baseline): "
              << HowToMakeBaseline(o, baseline) << "\n";
    return 2;
  }
  const json now = BuildJson();
  if (build.value("kind", "") != now["kind"]) {
    std::cerr << "rp-sim: the baseline " << o.baseline_dir << " was made by a "
              << build.value("kind", "?") << " build; this is a " << now["kind"].get<std::string>()
              << " build, whose costs differ (sanitizers and optimisation change every figure). "
              << HowToMakeBaseline(o, baseline) << "\n";
    return 2;
  }
  for (const char* key : {"cxx_flags", "compiler", "allocator", "commit"}) {
    if (build.value(key, json()) != now[key]) {
      notes->push_back(std::string("the baseline's ") + key + " was " +
                       build.value(key, json()).dump() + ", this build's is " + now[key].dump());
    }
  }
  if (baseline.value("exact", false) != o.run.exact) {
    std::cerr << "rp-sim: the baseline " << o.baseline_dir << " was made "
              << (o.run.exact ? "without" : "with") << " --exact and this regress runs "
              << (o.run.exact ? "with" : "without")
              << " it: instructions and seconds do not compare. " << HowToMakeBaseline(o, baseline)
              << "\n";
    return 2;
  }
  const json machine = baseline.value("machine", json::object());
  if (machine.value("cpu_model", "") != MachineJson()["cpu_model"]) {
    notes->push_back("the baseline was measured on " +
                     machine.value("cpu_model", std::string("?")) + ", this machine is " +
                     MachineJson()["cpu_model"].get<std::string>() +
                     ": CPU per claim moves with the CPU model");
  }
  return 0;
}

std::vector<json> BaselineRuns(const json& baseline, const std::string& scheme) {
  std::vector<json> out;
  for (const json& r : baseline.value("runs", json::array())) {
    if (r.value("scheme", "") == scheme) out.push_back(r);
  }
  return out;
}

JUnitSuite GateSuite(const std::string& name, const std::vector<GateResult>& results) {
  JUnitSuite suite{name, {}};
  for (const GateResult& r : results) {
    suite.cases.push_back({r.scheme + ": " + r.figure, r.passed, !r.judged, r.Message()});
  }
  return suite;
}

void WriteRegressMd(const std::string& path, const std::string& against, const json& rows,
                    const std::vector<GateResult>& results, const std::vector<std::string>& notes) {
  std::vector<const GateResult*> failed;
  int judged = 0;
  for (const GateResult& r : results) {
    judged += r.judged ? 1 : 0;
    if (!r.passed) failed.push_back(&r);
  }
  std::ofstream md(path);
  if (failed.empty()) {
    md << "# Verdict: NO REGRESSION — " << rows.size() << " scheme(s), " << judged
       << " gated figures within their limits\n\n";
  } else {
    md << "# Verdict: REGRESSION — " << failed.size() << " gated figure(s) beyond their limits\n\n";
  }
  md << "## Reasons\n\n";
  for (const GateResult* r : failed) md << "- **" << r->Message() << "**\n";
  for (const GateResult& r : results) {
    if (r.passed) md << "- " << r.Message() << "\n";
  }
  for (const std::string& n : notes) md << "- note: " << n << "\n";
  md << "\n## Runs against " << against << "\n\n";
  WriteFigureTable(md, rows);
}

}  // namespace

namespace {

// The gate's verdict written and printed; the exit code (0, 1; 2 when the JUnit file failed).
int Report(const RegressOptions& o, const std::string& dir, const std::string& against,
           const json& rows, const std::vector<json>& summaries,
           const std::vector<GateResult>& results, const std::vector<std::string>& notes) {
  bool regressed = false;
  json gate = json::array();
  for (const GateResult& r : results) {
    regressed = regressed || !r.passed;
    gate.push_back({{"scheme", r.scheme},
                    {"figure", r.figure},
                    {"judged", r.judged},
                    {"passed", r.passed},
                    {"value", r.value},
                    {"baseline", r.baseline},
                    {"limit", r.limit},
                    {"tolerance", r.tolerance},
                    {"p_value", r.p_value ? json(*r.p_value) : json()},
                    {"message", r.Message()}});
  }
  WriteRegressMd(dir + "/regress.md", against, rows, results, notes);
  std::ofstream(dir + "/regress.json") << json{{"against", against},
                                               {"interleaved", !o.against_bin_dir.empty()},
                                               {"regressed", regressed},
                                               {"build", BuildJson()},
                                               {"machine", MachineJson()},
                                               {"schemes", rows},
                                               {"gate", gate},
                                               {"notes", notes}}
                                              .dump(2)
                                       << "\n";
  std::printf("\nregress against %s: %s\n", against.c_str(),
              regressed ? "REGRESSION" : "no regression");
  for (const GateResult& r : results) {
    if (!r.passed) std::printf("  %s\n", r.Message().c_str());
  }
  for (const std::string& n : notes) std::printf("  note: %s\n", n.c_str());
  std::printf("regress: %s/regress.md\n", dir.c_str());
  const std::string suite = "rp-sim regress gate: " + o.run.scenario_path + " against " + against;
  return WriteJUnitIfAsked(o.run, summaries, regressed ? 1 : 0, {GateSuite(suite, results)});
}

// regress --against: each scheme's runs alternate between the other build and this one, so both
// meet the same machine; the other build's runs are the baseline.
int RunInterleaved(const RegressOptions& o) {
  const std::string dir = ResultsDir(o.run, "regress");
  const std::vector<std::string> schemes = o.schemes.empty() ? ClaimSchemeNames() : o.schemes;
  GateOptions gate = o.gate;
  gate.interleaved = true;
  gate.exact = o.run.exact;
  json rows = json::array();
  std::vector<json> summaries;
  std::vector<GateResult> results;
  for (const std::string& scheme : schemes) {
    std::vector<json> ours, theirs;
    for (int i = 0; i < o.repeats; ++i) {
      for (int side = 0; side < 2; ++side) {
        const bool other = (side + i) % 2 == 0;  // Who goes first alternates.
        RunOptions run = o.run;
        run.claim_scheme = scheme;
        run.bin_dir = other ? o.against_bin_dir : "";
        run.server_env = other ? std::vector<std::string>{} : o.server_env;
        run.out_dir = dir + "/" + scheme + (other ? "/against-" : "/run-") + std::to_string(i + 1);
        json summary;
        if (RunOnce(run, &summary) == 2) return 2;
        (other ? theirs : ours).push_back(Figures(summary));
        if (!other) summaries.push_back(std::move(summary));
      }
    }
    rows.push_back(MedianRow(ours));
    for (GateResult& r : JudgeScheme(scheme, ours, theirs, gate)) results.push_back(std::move(r));
  }
  const std::vector<std::string> notes = {
      "the baseline is the build in " + o.against_bin_dir + ", run interleaved with this one (" +
      std::to_string(o.repeats) + " runs each per scheme, alternating which goes first)"};
  return Report(o, dir, o.against_bin_dir, rows, summaries, results, notes);
}

}  // namespace

int RunRegress(const RegressOptions& o) {
  if (!o.against_bin_dir.empty()) return RunInterleaved(o);
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
  std::vector<std::string> notes;
  if (int rc = CheckBaseline(o, baseline, &notes); rc != 0) return rc;
  RegressOptions gated = o;
  gated.gate.exact = o.run.exact;
  const std::string dir = ResultsDir(o.run, "regress");
  json rows = json::array();
  std::vector<json> summaries;
  std::vector<GateResult> results;
  for (const json& base : baseline["schemes"]) {
    RunOptions run = o.run;
    run.claim_scheme = base["scheme"].get<std::string>();
    if (!o.schemes.empty() &&
        std::find(o.schemes.begin(), o.schemes.end(), run.claim_scheme) == o.schemes.end()) {
      continue;
    }
    run.server_env = o.server_env;
    std::vector<json> figures;
    for (int i = 0; i < o.repeats; ++i) {
      run.out_dir =
          dir + "/" + run.claim_scheme + (o.repeats > 1 ? "/run-" + std::to_string(i + 1) : "");
      json summary;
      if (RunOnce(run, &summary) == 2) return 2;
      figures.push_back(Figures(summary));
      summaries.push_back(std::move(summary));
    }
    rows.push_back(MedianRow(figures));
    for (GateResult& r : JudgeScheme(run.claim_scheme, figures,
                                     BaselineRuns(baseline, run.claim_scheme), gated.gate)) {
      results.push_back(std::move(r));
    }
  }
  return Report(o, dir, o.baseline_dir, rows, summaries, results, notes);
}

}  // namespace rp::sim
