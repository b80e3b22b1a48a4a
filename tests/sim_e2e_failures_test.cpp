// rp-sim end to end, when a run must fail: a run whose load or fault did not happen, a wedged
// server that leaves requests unanswered, an abort-on-fail check, a run killed hard (nothing
// left running), a broken server (test builds only) caught by the verification, bad command
// lines and scenario files (exit 2 with file:line), and a baseline of another build refused.
#include <gtest/gtest.h>

#include <signal.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "common/process/process.h"
#include "tests/support/harness.h"
#include "tests/support/sim_process.h"

namespace rp::testing {
namespace {

// A green result means the plan happened: a run whose arrivals were dropped, or whose fault did
// not apply, fails and says why — whatever its own checks say.
TEST(SimE2e, ARunWhoseLoadOrFaultDidNotHappenFails) {
  TempDir dir;
  const std::string base = R"(seed: 9
system: {claim_scheme: batched, server: {packet: {ttl_s: 3}, scanner: {interval_ms: 100}}}
users: {count: 1000}
flows:
  c2c: {weight: 1, count: [2, 4], share_cents: [10, 50], claimers: [1, 4]}
checks:
  - "recon.drift == 0"
)";
  std::ofstream(dir.File("dropped.yaml")) << "name: dropped\n"
                                          << base
                                          << "load:\n  journeys_in_flight_max: 1\n  phases:\n    - "
                                             "{name: p, duration_s: 3, rate: 200}\n";
  SimRun dropped =
      RunSim({"run", dir.File("dropped.yaml"), "--out", dir.File("r1"), "--quiet"}, dir);
  EXPECT_EQ(dropped.exit_code, 1) << dropped.output;
  EXPECT_NE(dropped.output.find("check FAIL dropped_arrivals = "), std::string::npos)
      << dropped.output;
  EXPECT_NE(dropped.output.find("the load this scenario plans did not happen"), std::string::npos);

  // A switch rp-mock would refuse is an error of the file, at its line, before anything starts.
  std::ofstream(dir.File("walet.yaml"))
      << "name: walet\n"
      << base
      << "load:\n  phases:\n    - {name: p, duration_s: 3, rate: 10}\nfaults:\n"
         "  - {at_s: 1, action: mock_switch, switch: {service: walet, error_rate: 0.5}}\n";
  SimRun walet = RunSim({"run", dir.File("walet.yaml"), "--quiet"}, dir);
  EXPECT_EQ(walet.exit_code, 2) << walet.output;
  EXPECT_NE(walet.output.find("walet.yaml:13: rp-mock would refuse this switch: service must be"),
            std::string::npos)
      << walet.output;

  // A fault rp-sim cannot apply — any fault against a --target it did not start — fails the run.
  MockProcess mock(dir);
  ServerConfig config = TestConfig(dir);
  config.downstream.mocks_url = mock.url();
  InProcessServer server(config);
  ASSERT_TRUE(server.app);
  std::ofstream(dir.File("fault.yaml"))
      << "name: fault\n"
      << base
      << "load:\n  phases:\n    - {name: p, duration_s: 3, rate: 10}\nfaults:\n"
         "  - {at_s: 1, action: mock_switch, switch: {service: wallet, error_rate: 0.5}}\n";
  SimRun fault =
      RunSim({"run", dir.File("fault.yaml"), "--out", dir.File("r2"), "--quiet", "--target",
              "http://127.0.0.1:" + std::to_string(server.port), "--mocks", mock.url()},
             dir,
             {std::string("RP_AUTH_SECRET=") + kAuthSecret,
              std::string("RP_PAYMENT_SECRET=") + kPaymentSecret});
  EXPECT_EQ(fault.exit_code, 1) << fault.output;
  EXPECT_NE(fault.output.find("check FAIL fault mock_switch at 1.0 s did not apply"),
            std::string::npos)
      << fault.output;
  EXPECT_NE(fault.output.find("check pass dropped_arrivals = 0.00%, limit <= 1%"),
            std::string::npos);
  server.app->Stop();
}

// A server that stops answering mid-run (frozen with SIGSTOP, longer than the client waits)
// leaves requests unanswered: the run fails on them, naming the check, though the money
// verifies. A budget on the freeze's window lets it pass — but a second freeze outside any
// budget, once the first one is over, fails again and names the first request it left.
TEST(SimE2e, ARunWithAWedgedServerFailsOnUnansweredRequests) {
  TempDir dir;
  const std::string base = R"(seed: 5
system: {claim_scheme: batched, server: {packet: {ttl_s: 3}, scanner: {interval_ms: 100}}}
users: {count: 5000}
load:
  request_timeout_ms: 700
  phases:
    - {name: p, duration_s: 7, rate: 30}
flows:
  hot: {weight: 1, packets: 1, shares: 400, share_cents: 5}
checks: ["recon.drift == 0"]
)";
  std::ofstream(dir.File("wedged.yaml")) << "name: wedged\n"
                                         << base
                                         << "faults:\n  - {at_s: 1.5, action: server_pause}\n"
                                            "  - {at_s: 4, action: server_resume}\n";
  SimRun wedged = RunSim({"run", dir.File("wedged.yaml"), "--quiet", "--out", dir.File("r1"),
                          "--junit", dir.File("r1.xml")},
                         dir);
  EXPECT_EQ(wedged.exit_code, 1) << wedged.output;
  EXPECT_NE(wedged.output.find("check FAIL unanswered = "), std::string::npos) << wedged.output;
  json s = ReadJson(dir.File("r1/summary.json"));
  ASSERT_FALSE(s.is_discarded()) << wedged.output;
  EXPECT_TRUE(s["verification"]["ok"].get<bool>()) << s["verification"].dump();
  EXPECT_GT(s["unanswered"]["unanswered"].get<int64_t>(), 0) << s["unanswered"].dump();
  EXPECT_GT(s["unanswered"]["by_cause"].value("timeout", 0), 0) << s["unanswered"].dump();
  EXPECT_GT(s["ops"]["claim"]["unanswered"].get<int64_t>(), 0);
  for (const json& c : s["checks"]) {  // It fails for that, and for nothing else.
    EXPECT_EQ(c["passed"].get<bool>(), c["check"] != "unanswered == 0") << c.dump();
  }
  std::ifstream junit(dir.File("r1.xml"));
  const std::string xml(std::istreambuf_iterator<char>(junit), {});
  EXPECT_NE(xml.find("name=\"check: unanswered == 0\">\n      <failure"), std::string::npos) << xml;
  std::ifstream html(dir.File("r1/report.html"));
  EXPECT_NE(std::string(std::istreambuf_iterator<char>(html), {}).find("<th>unanswered</th>"),
            std::string::npos);

  std::ofstream(dir.File("budgeted.yaml"))
      << "name: budgeted\n"
      << base
      << "faults:\n  - {at_s: 1.5, action: server_pause, unanswered_max: all}\n"
         "  - {at_s: 4, action: server_resume}\n";
  SimRun budgeted =
      RunSim({"run", dir.File("budgeted.yaml"), "--quiet", "--out", dir.File("r2")}, dir);
  EXPECT_EQ(budgeted.exit_code, 0) << budgeted.output;
  EXPECT_NE(budgeted.output.find("check pass unanswered = "), std::string::npos) << budgeted.output;

  std::ofstream(dir.File("wedged_again.yaml"))
      << "name: wedged_again\n"
      << base
      << "faults:\n"
         "  - {at_s: 1, action: server_pause, unanswered_max: all, unanswered_recovery_s: 0.5}\n"
         "  - {at_s: 2.5, action: server_resume}\n"
         "  - {at_s: 4, action: server_pause}\n"
         "  - {at_s: 5.5, action: server_resume}\n";
  SimRun again =
      RunSim({"run", dir.File("wedged_again.yaml"), "--quiet", "--out", dir.File("r3")}, dir);
  EXPECT_EQ(again.exit_code, 1) << again.output;
  EXPECT_NE(again.output.find("check FAIL unanswered = "), std::string::npos) << again.output;
  json a = ReadJson(dir.File("r3/summary.json"));
  ASSERT_FALSE(a.is_discarded()) << again.output;
  const json first = a["unanswered"]["first_beyond_budget"];
  ASSERT_TRUE(first.is_object()) << a["unanswered"].dump();
  EXPECT_EQ(first["where"], "phase p");
  EXPECT_GE(first["invoked_ms"].get<int64_t>(), 3000) << first.dump();  // After the window.
}

// k6's abortOnFail: a check that fails stops the load early, the run fails and says why; a
// series the server does not have is refused before the load.
TEST(SimE2e, AnAbortOnFailCheckStopsTheLoadAndAMissingSeriesIsRefused) {
  TempDir dir;
  const std::string base = R"(seed: 4
system: {claim_scheme: batched, server: {packet: {ttl_s: 3}, scanner: {interval_ms: 100}}}
users: {count: 1000}
load:
  phases:
    - {name: p, duration_s: 60, rate: 20}
flows:
  c2c: {weight: 1, count: [2, 4], share_cents: [10, 50], claimers: [1, 4]}
)";
  std::ofstream(dir.File("abort.yaml"))
      << "name: abort\n"
      << base
      << "checks:\n  - {check: \"count(send) < 5\", abort_on_fail: true, delay_abort_eval_s: 1}\n";
  SimRun abort = RunSim({"run", dir.File("abort.yaml"), "--out", dir.File("r"), "--quiet"}, dir);
  EXPECT_EQ(abort.exit_code, 1) << abort.output;
  EXPECT_NE(abort.output.find("load aborted: check 'count(send) < 5' failed at "),
            std::string::npos)
      << abort.output;
  json s = ReadJson(dir.File("r/summary.json"));
  ASSERT_FALSE(s.is_discarded());
  EXPECT_TRUE(s["load"]["aborted"].get<bool>());
  EXPECT_LT(s["load"]["duration_s"].get<double>(), 30);  // Of the 60 s planned.
  EXPECT_TRUE(s["verification"]["ok"].get<bool>())
      << s["verification"].dump();  // Money still right.

  std::ofstream(dir.File("series.yaml")) << "name: series\n"
                                         << base << "checks:\n  - \"max(rp_queue_lag_secs) < 5\"\n";
  SimRun series = RunSim({"run", dir.File("series.yaml"), "--quiet"}, dir);
  EXPECT_EQ(series.exit_code, 2) << series.output;
  EXPECT_NE(series.output.find("names the series rp_queue_lag_secs, which the server's /metrics "
                               "does not have (it has rp_queue_lag_seconds"),
            std::string::npos)
      << series.output;
}

// The command lines of the processes whose arguments mention `text`, postgres ones apart.
std::vector<std::string> ProcessesMentioning(const std::string& text, bool* postgres_alive) {
  std::vector<std::string> found;
  *postgres_alive = false;
  for (const auto& e : std::filesystem::directory_iterator("/proc")) {
    std::ifstream in(e.path() / "cmdline");
    std::string cmdline(std::istreambuf_iterator<char>(in), {});
    std::replace(cmdline.begin(), cmdline.end(), '\0', ' ');
    if (cmdline.find(text) == std::string::npos) continue;
    if (cmdline.find("postgres") != std::string::npos) {
      *postgres_alive = true;
    } else {
      found.push_back(cmdline);
    }
  }
  return found;
}

// A run killed hard (as a CI timeout kills) leaves no server, mock, Redis or PostgreSQL behind —
// PostgreSQL too, though it runs as another user when rp-sim is root (the parent-death signal is
// set again after setpriv changes the user). The next run names the folder it left.
TEST(SimE2e, ARunKilledHardLeavesNothingRunning) {
  TempDir dir;
  std::ofstream(dir.File("long.yaml")) << R"(name: long
seed: 5
system: {claim_scheme: mem_lock, redis: true, ledger: postgres, server: {packet: {ttl_s: 3}}}
users: {count: 1000}
load:
  phases:
    - {name: p, duration_s: 120, rate: 5}
flows:
  c2c: {weight: 1, count: [2, 4], share_cents: [10, 50], claimers: [1, 4]}
)";
  const std::string tmp = "TMPDIR=" + dir.path();
  auto sim = ChildProcess::Spawn(
      {RP_SIM_BIN, "run", dir.File("long.yaml"), "--quiet", "--out", dir.File("r")}, {tmp},
      dir.File("long.err"));
  ASSERT_TRUE(sim.ok());
  bool started = false;
  while (!started) {
    auto line = sim->ReadLine(120000);
    if (!line.ok()) break;
    started = line->find(" against http://") != std::string::npos;
  }
  ASSERT_TRUE(started);
  const std::string work = dir.path() + "/rp-sim-";
  bool postgres = false;
  ASSERT_FALSE(ProcessesMentioning(work, &postgres).empty());  // Its server, mock and Redis.
  // PostgreSQL's cluster: in the work folder, or (as root) in a folder of its own it links to.
  std::string cluster = work;
  for (const auto& e : std::filesystem::directory_iterator(dir.path())) {
    std::error_code ec;
    const std::filesystem::path data = std::filesystem::read_symlink(e.path() / "pg" / "data", ec);
    if (!ec) cluster = data.parent_path().string();
  }
  ProcessesMentioning(cluster, &postgres);
  ASSERT_TRUE(postgres) << "no PostgreSQL runs with its cluster in " << cluster;
  sim->Signal(SIGKILL);
  ASSERT_TRUE(sim->Wait(10000).ok());
  std::vector<std::string> left;
  EXPECT_TRUE(Eventually([&] {
    left = ProcessesMentioning(work, &postgres);
    return left.empty();
  })) << left.front();
  EXPECT_TRUE(Eventually([&] {
    ProcessesMentioning(cluster, &postgres);
    return !postgres;
  })) << "PostgreSQL outlived the rp-sim that started it";
  std::ofstream(dir.File("next.yaml")) << R"(name: next
system: {claim_scheme: batched, server: {packet: {ttl_s: 2}}}
users: {count: 100}
load:
  phases:
    - {name: p, duration_s: 1, rate: 5}
flows:
  c2c: {weight: 1, count: [1, 2], share_cents: [10, 20], claimers: [1, 2]}
)";
  SimRun next =
      RunSim({"run", dir.File("next.yaml"), "--quiet", "--out", dir.File("n")}, dir, {tmp});
  EXPECT_EQ(next.exit_code, 0) << next.output;
  EXPECT_NE(next.output.find("rp-sim: found a stale work folder " + work), std::string::npos)
      << next.output;
  if (cluster != work) {
    EXPECT_NE(next.output.find("(PostgreSQL's cluster in " + cluster + ")"), std::string::npos)
        << next.output;
    std::filesystem::remove_all(cluster);  // Left for reading, as a killed run's ledger is.
  }
  // Reported once: a third run finds nothing stale.
  SimRun third =
      RunSim({"run", dir.File("next.yaml"), "--quiet", "--out", dir.File("t")}, dir, {tmp});
  EXPECT_EQ(third.output.find("stale work folder"), std::string::npos) << third.output;
}

TEST(SimE2e, ABadCommandLineExitsTwoAndHelpExitsZero) {
  TempDir dir;
  // CLI11's own codes (105 out of range, 106 a required argument, 109 an extra one) are not
  // what the docs promise: every bad command line is 2.
  for (const std::vector<std::string>& argv :
       {std::vector<std::string>{"capacity", RP_SOURCE_DIR "/tests/data/sim_smoke.yaml", "--factor",
                                 "0.5"},
        // NaN passes CLI11's own Range (every comparison with it is false): not ours.
        std::vector<std::string>{"capacity", RP_SOURCE_DIR "/tests/data/sim_smoke.yaml", "--factor",
                                 "nan"},
        std::vector<std::string>{"regress", RP_SOURCE_DIR "/tests/data/sim_smoke.yaml",
                                 "--baseline", "x", "--tolerance", "cpu_ms_per_claim=inf"},
        std::vector<std::string>{"run"}, std::vector<std::string>{"run", "a", "b"},
        std::vector<std::string>{"nonsense"}}) {
    SimRun run = RunSim(argv, dir);
    EXPECT_EQ(run.exit_code, 2) << argv[0] << ": " << run.output;
  }
  SimRun typo = RunSim({"rn", "x.yaml"}, dir);
  EXPECT_EQ(typo.exit_code, 2);
  EXPECT_NE(typo.output.find("unknown command 'rn' (commands: run, campaign, compare, regress"),
            std::string::npos)
      << typo.output;
  SimRun help = RunSim({"capacity", "--help"}, dir);
  EXPECT_EQ(help.exit_code, 0) << help.output;
  EXPECT_NE(help.output.find("--slo-p99-ms"), std::string::npos);
  // --version everywhere: the program, the commit it was built from, exit 0.
  for (const auto& [bin, name] :
       {std::pair{RP_SIM_BIN, "rp-sim"}, std::pair{RP_SERVER_BIN, "rp-server"},
        std::pair{RP_MOCK_BIN, "rp-mock"}}) {
    auto child = ChildProcess::Spawn({bin, "--version"}, {}, dir.File("version.err"));
    ASSERT_TRUE(child.ok());
    auto line = child->ReadLine(10000);
    ASSERT_TRUE(line.ok()) << name;
    EXPECT_EQ(line->rfind(std::string(name) + " ", 0), 0u) << *line;
    EXPECT_NE(line->find(" (Redpacket Lab)"), std::string::npos) << *line;
    auto code = child->Wait(10000);
    ASSERT_TRUE(code.ok());
    EXPECT_EQ(*code, 0) << name;
  }
}

TEST(SimE2e, BrokenServerFailsTheVerification) {
#ifndef RP_FAULT_INJECTION
  GTEST_SKIP() << "needs a build with -DRP_FAULT_INJECTION=ON (./rp test has it)";
#endif
  TempDir dir;
  const std::string out = dir.File("results");
  SimRun run = RunSim({"run", RP_SOURCE_DIR "/tests/data/sim_smoke.yaml", "--out", out}, dir,
                      {"RP_INJECT_BUG=phantom_claim"});
  EXPECT_EQ(run.exit_code, 1) << run.output;
  json s = ReadJson(out + "/summary.json");
  ASSERT_FALSE(s.is_discarded()) << run.output;
  EXPECT_FALSE(s["verification"]["ok"].get<bool>());
  EXPECT_NE(s["verification"]["violations"].dump().find("lost claim"), std::string::npos)
      << s["verification"].dump(2);
  // The history names the request that broke the rule: who, which packet, when, what it was told.
  EXPECT_NE(s["verification"]["violations"].dump().find(
                "(HTTP 201, ok): acknowledged, but the ledger has no claim of this user"),
            std::string::npos)
      << s["verification"].dump(2);
}

TEST(SimE2e, BadScenarioExitsTwoWithFileAndLine) {
  TempDir dir;
  const std::string path = dir.File("bad.yaml");
  std::ofstream(path) << "name: bad\nload:\n  phases: [{name: p, duration_s: 3, rate: 5}]\n"
                         "flows:\n  hot: {weight: 1, sharez: 3}\n";
  SimRun run = RunSim({"run", path}, dir);
  EXPECT_EQ(run.exit_code, 2);
  EXPECT_NE(run.output.find("bad.yaml:5:"), std::string::npos) << run.output;
  EXPECT_NE(run.output.find("unknown key 'sharez'"), std::string::npos) << run.output;
}

// system.server is rp-server's to judge: a key it does not know, or a value outside its range,
// stops the run before any load, in rp-server's words, naming the scenario.
TEST(SimE2e, AServerSettingRpServerRefusesStopsTheRunBeforeTheLoad) {
  TempDir dir;
  const std::string head =
      "name: srv\nload:\n  phases: [{name: p, duration_s: 3, rate: 5}]\n"
      "flows:\n  c2c: {weight: 1}\n";
  for (const auto& [server, expect] :
       {std::pair<std::string, std::string>{"packet: {ttl_z: 3}", "ttl_z"},
        std::pair<std::string, std::string>{"packet: {ttl_s: 0}", "packet.ttl_s"}}) {
    const std::string path = dir.File("srv.yaml");
    std::ofstream(path) << head << "system:\n  server: {" << server << "}\n";
    SimRun run = RunSim({"run", path, "--quiet"}, dir);
    EXPECT_EQ(run.exit_code, 2) << run.output;
    EXPECT_NE(run.output.find("rp-server refused its config"), std::string::npos) << run.output;
    EXPECT_NE(run.output.find(expect), std::string::npos) << run.output;
    EXPECT_NE(run.output.find("srv.yaml"), std::string::npos) << run.output;
    EXPECT_EQ(run.output.find("load done"), std::string::npos) << run.output;
  }
}

// A baseline says which build made it; regress refuses one of another kind before any run, and
// says how to make one with the build at hand.
TEST(SimE2e, RegressRefusesABaselineOfAnotherBuildKindAndSaysHowToMakeOne) {
  TempDir dir;
  std::ifstream in(RP_SOURCE_DIR "/results/baselines/ci_regress/compare.json");
  nlohmann::json baseline = nlohmann::json::parse(in);
  baseline["build"]["kind"] = "Release+none";
  std::filesystem::create_directories(dir.File("release"));
  std::ofstream(dir.File("release/compare.json")) << baseline.dump();
  SimRun refused = RunSim({"regress", RP_SOURCE_DIR "/scenarios/ci_regress.yaml", "--baseline",
                           dir.File("release"), "--quiet", "--out", dir.File("out")},
                          dir);
  EXPECT_EQ(refused.exit_code, 2) << refused.output;
  EXPECT_NE(refused.output.find("was made by a Release+none build"), std::string::npos)
      << refused.output;
  EXPECT_NE(refused.output.find("make a baseline with this build: rp-sim compare"),
            std::string::npos)
      << refused.output;
  EXPECT_FALSE(std::filesystem::exists(dir.File("out")));  // Refused before any run.
  // A baseline from before baselines said what they are is refused the same way.
  baseline.erase("build");
  std::ofstream(dir.File("release/compare.json"), std::ios::trunc) << baseline.dump();
  SimRun old = RunSim({"regress", RP_SOURCE_DIR "/scenarios/ci_regress.yaml", "--baseline",
                       dir.File("release"), "--quiet"},
                      dir);
  EXPECT_EQ(old.exit_code, 2) << old.output;
  EXPECT_NE(old.output.find("does not say which build made it"), std::string::npos) << old.output;
}

}  // namespace
}  // namespace rp::testing
