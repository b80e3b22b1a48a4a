// rp-sim end to end: the real binary starts its own redis/rp-mock/rp-server, replays a scenario,
// verifies the money and writes a results folder. Also: a deliberately broken server (test
// builds only) must fail the verification, and a bad scenario must exit 2 with file:line.
#include <gtest/gtest.h>

#include <signal.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include <httplib.h>

#include "common/process.h"
#include "common/prometheus_text.h"
#include "tests/support/harness.h"

namespace rp::testing {
namespace {

using nlohmann::json;

struct SimRun {
  int exit_code = -1;
  std::string output;  // stdout and the tail of stderr's file.
};

SimRun RunSim(const std::vector<std::string>& args, const TempDir& dir,
              const std::vector<std::string>& env = {}) {
  std::vector<std::string> argv = {RP_SIM_BIN};
  argv.insert(argv.end(), args.begin(), args.end());
  SimRun run;
  auto child = ChildProcess::Spawn(argv, env, dir.File("sim.stderr"));
  if (!child.ok()) return run;
  for (;;) {  // Drain stdout so the simulator never blocks on a full pipe.
    auto line = child->ReadLine(600000);
    if (!line.ok()) break;
    run.output += *line + "\n";
  }
  auto code = child->Wait(60000);
  run.exit_code = code.ok() ? *code : -1;
  std::ifstream err(dir.File("sim.stderr"));
  run.output += std::string(std::istreambuf_iterator<char>(err), {});
  return run;
}

json ReadJson(const std::string& path) {
  std::ifstream in(path);
  return json::parse(in, nullptr, false);
}

// Debian's chromium, headless, on a local file: the DOM it built (--dump-dom) or a screenshot.
std::string Chromium(const TempDir& dir, const std::vector<std::string>& args) {
  std::vector<std::string> argv = {"/usr/bin/chromium", "--headless", "--no-sandbox",
                                   "--disable-gpu", "--user-data-dir=" + dir.File("chromium")};
  argv.insert(argv.end(), args.begin(), args.end());
  auto child = ChildProcess::Spawn(argv, {}, dir.File("chromium.err"));
  if (!child.ok()) return "";
  std::string out;
  for (auto line = child->ReadLine(60000); line.ok(); line = child->ReadLine(60000)) {
    out += *line + "\n";
  }
  (void)child->Wait(60000);
  return out;
}

size_t Count(const std::string& text, const std::string& what) {
  size_t n = 0;
  for (size_t at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
  return n;
}

// report.html stands on its own (nothing fetched from anywhere) and a real browser renders it.
void ExpectHtmlReportRenders(const std::string& html_path, const TempDir& dir) {
  std::ifstream in(html_path);
  const std::string html(std::istreambuf_iterator<char>(in), {});
  ASSERT_FALSE(html.empty()) << html_path;
  for (const char* outside :
       {"<script", "<link", "<img", "<iframe", "src=", "url(", "@import", "http://", "https://"}) {
    EXPECT_EQ(html.find(outside), std::string::npos) << outside << " in " << html_path;
  }
  const std::string dom = Chromium(dir, {"--dump-dom", "file://" + html_path});
  EXPECT_GE(Count(dom, "<svg class=\"chart\""), 4u) << dom.substr(0, 2000);
  EXPECT_GE(Count(dom, "<polyline"), 4u);  // Lines were drawn, not empty axes.
  EXPECT_NE(dom.find("PASSED"), std::string::npos);
  EXPECT_NE(dom.find("Money verified"), std::string::npos);
  const std::string png = dir.File("report.png");
  Chromium(dir, {"--screenshot=" + png, "--window-size=1100,2400", "file://" + html_path});
  std::error_code ec;
  EXPECT_GT(std::filesystem::file_size(png, ec), 40'000u) << "a blank page is a few KB";
}

TEST(SimE2e, SmokeScenarioPassesVerifiesAndWritesResults) {
  TempDir dir;
  const std::string out = dir.File("results");
  SimRun run = RunSim({"run", RP_SOURCE_DIR "/tests/data/sim_smoke.yaml", "--out", out, "--junit",
                       dir.File("junit.xml")},
                      dir);
  ASSERT_EQ(run.exit_code, 0) << run.output;
  for (const char* f : {"summary.json", "timeseries.csv", "server_metrics.csv", "faults.csv",
                        "report.md", "report.html", "history.jsonl"}) {
    EXPECT_TRUE(std::filesystem::exists(out + "/" + f)) << f;
  }
  json s = ReadJson(out + "/summary.json");
  ASSERT_FALSE(s.is_discarded());
  EXPECT_TRUE(s["passed"].get<bool>());
  EXPECT_TRUE(s["verification"]["ok"].get<bool>());
  EXPECT_TRUE(s["verification"]["transfers_checked"].get<bool>());
  EXPECT_GT(s["verification"]["claims_acknowledged"].get<int64_t>(), 0);
  EXPECT_EQ(s["verification"]["packets_unsettled"].get<int64_t>(), 0);
  for (const char* op : {"send", "claim", "grab", "subsidies", "detail"}) {
    EXPECT_GT(s["ops"][op]["requests"].get<int64_t>(), 0) << op;
  }
  ASSERT_EQ(s["faults"].size(), 2u);
  EXPECT_TRUE(s["faults"][0]["ok"].get<bool>());
  EXPECT_GT(s["healthz_ceiling_rps"].get<double>(), 0);
  EXPECT_GT(s["server"]["ledger_commits"].get<double>(), 0);
  EXPECT_EQ(s["schema"], "redpacket-lab/rp-sim-summary");
  EXPECT_EQ(s["schema_version"], 3);
  EXPECT_EQ(s["load"]["aborted"], false);
  EXPECT_GT(s["load"]["offered_arrivals"].get<int64_t>(), 0);
  // history.jsonl: a line per money-moving request; its claims agree with the summary's.
  {
    std::ifstream history(out + "/history.jsonl");
    int64_t claims = 0, lines = 0;
    for (std::string line; std::getline(history, line); ++lines) {
      const json e = json::parse(line, nullptr, false);
      ASSERT_TRUE(e.is_object()) << line;
      for (const char* k : {"op", "invoked_ms", "completed_ms", "outcome", "status", "user_id"}) {
        EXPECT_TRUE(e.contains(k)) << k << " in " << line;
      }
      EXPECT_LE(e["invoked_ms"].get<int64_t>(), e["completed_ms"].get<int64_t>()) << line;
      claims += e["op"] == "claim" ? 1 : 0;
    }
    EXPECT_EQ(claims, s["ops"]["claim"]["requests"].get<int64_t>());
    EXPECT_EQ(lines, s["verification"]["history_events"].get<int64_t>());
  }
  // Every check evaluated to a figure (server series scraped, phase found): none "not scraped".
  for (const json& c : s["checks"]) {
    EXPECT_TRUE(c["passed"].get<bool>()) << c.dump();
    if (c["kind"] == "scenario") {
      EXPECT_NE(c["detail"].get<std::string>().find(" = "), std::string::npos) << c.dump();
    }
  }
  std::ifstream md(out + "/report.md");
  std::string report(std::istreambuf_iterator<char>(md), {});
  EXPECT_NE(report.find("**Verdict: PASSED**"), std::string::npos);
  // Wall-clock time beside the relative seconds in every CSV.
  for (const char* f : {"timeseries.csv", "server_metrics.csv", "faults.csv"}) {
    std::ifstream csv(out + "/" + f);
    std::string header, row;
    std::getline(csv, header);
    std::getline(csv, row);
    EXPECT_TRUE(header.rfind("time,", 0) == 0 || header.rfind("started_at,", 0) == 0) << header;
    EXPECT_EQ(row.substr(0, 2), "20") << f << ": " << row;
    EXPECT_EQ(row.find('Z'), 23u) << f << ": " << row;  // 2026-12-02T19:30:01.250Z
  }
  // The JUnit file: a test case per check and one for the money.
  std::ifstream junit(dir.File("junit.xml"));
  const std::string xml(std::istreambuf_iterator<char>(junit), {});
  EXPECT_NE(xml.find("<testsuites name=\"rp-sim\" tests=\""), std::string::npos) << xml;
  EXPECT_NE(xml.find("name=\"money verification\"/>"), std::string::npos) << xml;
  EXPECT_NE(xml.find("name=\"check: p99.9(claim) &lt; 30s\"/>"), std::string::npos) << xml;
  EXPECT_EQ(xml.find("<failure"), std::string::npos) << xml;
  ExpectHtmlReportRenders(out + "/report.html", dir);
  EXPECT_NE(run.output.find("verification ok"), std::string::npos) << run.output;
}

// --metrics-listen: rp-sim's own /metrics while it runs. Scraped once the load is done (before
// the verification, which is not load), its counts are exactly the summary's.
TEST(SimE2e, ClientMetricsServeTheRunWhileItRuns) {
  TempDir dir;
  std::ofstream(dir.File("m.yaml")) << R"(name: metrics
seed: 9
system: {claim_scheme: db_lock, packet_ttl_s: 2}
users: {count: 1000}
load:
  phases:
    - {name: p, duration_s: 3, rate: 20}
flows:
  c2c: {weight: 1, count: [1, 3], share_cents: [10, 50], claimers: [1, 3]}
)";
  auto sim = ChildProcess::Spawn({RP_SIM_BIN, "run", dir.File("m.yaml"), "--quiet", "--out",
                                  dir.File("r"), "--metrics-listen", "127.0.0.1:0"},
                                 {}, dir.File("m.err"));
  ASSERT_TRUE(sim.ok());
  std::string url, output;
  std::string scraped;
  for (;;) {
    auto line = sim->ReadLine(120000);
    if (!line.ok()) break;
    output += *line + "\n";
    if (line->rfind("rp-sim: client metrics on ", 0) == 0) url = line->substr(26);
    if (line->find("load done; verifying") != std::string::npos) {
      ASSERT_FALSE(url.empty()) << output;
      httplib::Client client(url.substr(0, url.size() - 8));  // Without "/metrics".
      auto r = client.Get("/metrics");
      ASSERT_TRUE(r) << url;
      scraped = r->body;
    }
  }
  auto code = sim->Wait(60000);
  ASSERT_TRUE(code.ok());
  ASSERT_EQ(*code, 0) << output;
  ASSERT_FALSE(scraped.empty()) << output;
  auto samples = prom::ParseText(scraped);
  ASSERT_TRUE(samples.ok());
  json s = ReadJson(dir.File("r/summary.json"));
  for (const char* op : {"send", "claim", "poll", "detail"}) {
    double n = 0;
    for (const prom::Sample& m : *samples) {
      if (m.name == "rp_sim_requests_total" && m.labels.at("op") == op) n += m.value;
    }
    EXPECT_EQ(n, s["ops"][op]["requests"].get<double>()) << op;
  }
  EXPECT_EQ(prom::Sum(*samples, "rp_sim_arrivals_total"),
            s["load"]["offered_arrivals"].get<double>());
  EXPECT_EQ(prom::Sum(*samples, "rp_sim_load_running"), 0);
  EXPECT_EQ(PromtoolProblems(scraped), "");
}

// The campaign's fault kinds, each once on a real system: Redis flushed, snapshotted and
// restarted from the older snapshot, the server frozen and thawed and restarted under another
// claim scheme on the same ledger. Every fault applies and the money still balances.
TEST(SimE2e, EveryCampaignFaultAppliesAndTheMoneyBalances) {
  TempDir dir;
  std::ofstream(dir.File("f.yaml")) << R"(name: faults
seed: 21
system: {claim_scheme: mem_lock, redis: true, packet_ttl_s: 3}
users: {count: 2000}
load:
  phases:
    - {name: p, duration_s: 10, rate: 25}
flows:
  c2c: {weight: 1, count: [2, 5], share_cents: [10, 80], claimers: [1, 6], repeat_claim_rate: 0.2}
  hot: {weight: 1, packets: 1, shares: 80, share_cents: 5}
faults:
  - {at_s: 1, action: redis_snapshot}
  - {at_s: 2, action: redis_flush}
  - {at_s: 3, action: server_pause, unanswered_max: all}
  - {at_s: 4.5, action: server_resume}
  - {at_s: 5, action: redis_stale_restart}
  - {at_s: 6, action: server_restart, claim_scheme: presplit, unanswered_max: all}
  - {at_s: 8, action: server_restart, claim_scheme: db_lock, unanswered_max: all}
)";
  SimRun run = RunSim({"run", dir.File("f.yaml"), "--quiet", "--out", dir.File("r")}, dir);
  EXPECT_EQ(run.exit_code, 0) << run.output;
  json s = ReadJson(dir.File("r/summary.json"));
  ASSERT_EQ(s["faults"].size(), 7u) << run.output;
  for (const json& f : s["faults"]) EXPECT_TRUE(f["ok"].get<bool>()) << f.dump();
  EXPECT_NE(s["faults"][4]["detail"].get<std::string>().find("older snapshot"), std::string::npos);
  EXPECT_NE(s["faults"][5]["detail"].get<std::string>().find("under claim scheme presplit"),
            std::string::npos);
  EXPECT_TRUE(s["verification"]["ok"].get<bool>()) << s["verification"].dump();
  EXPECT_GT(s["verification"]["claims_acknowledged"].get<int64_t>(), 0);
}

// A campaign's own report names, per seed, the engine and the number of servers that ran it.
TEST(SimE2e, ACampaignReportSaysWhichLedgerAndHowManyInstancesRan) {
  TempDir dir;
  SimRun run =
      RunSim({"campaign", RP_SOURCE_DIR "/tests/data/sim_smoke.yaml", "--seeds", "1", "--from", "7",
              "--duration", "3", "--quiet", "--regressions", "", "--out", dir.File("c")},
             dir);
  ASSERT_EQ(run.exit_code, 0) << run.output;
  json c = ReadJson(dir.File("c/campaign.json"));
  ASSERT_EQ(c["runs"].size(), 1u) << c.dump();
  EXPECT_EQ(c["runs"][0]["ledger"], "sqlite");
  EXPECT_EQ(c["runs"][0]["instances"], 1);
  EXPECT_GT(c["runs"][0]["claims_verified"].get<int64_t>(), 0);
}

// --pg-stats: PostgreSQL's own per-statement figures of the run, in the results folder; asked
// for without the PostgreSQL rp-sim starts, the run refuses to start.
TEST(SimE2e, PgStatsWritesTheStatementsPostgresqlRan) {
  TempDir dir;
  SimRun run = RunSim({"run", RP_SOURCE_DIR "/tests/data/sim_smoke.yaml", "--ledger", "postgres",
                       "--duration", "3", "--pg-stats", "--quiet", "--out", dir.File("r")},
                      dir);
  ASSERT_EQ(run.exit_code, 0) << run.output;
  std::ifstream in(dir.File("r/pg_statements.csv"));
  const std::string body((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  ASSERT_TRUE(body.rfind("calls,total_ms,mean_ms,rows,query\n", 0) == 0) << body.substr(0, 200);
  EXPECT_NE(body.find("\"INSERT INTO claims ("), std::string::npos) << body.substr(0, 2000);
  SimRun refused = RunSim({"run", RP_SOURCE_DIR "/tests/data/sim_smoke.yaml", "--pg-stats",
                           "--quiet", "--out", dir.File("s")},
                          dir);
  EXPECT_EQ(refused.exit_code, 2);
  EXPECT_NE(refused.output.find("--pg-stats needs the PostgreSQL rp-sim starts"), std::string::npos)
      << refused.output;
  SimRun campaign = RunSim({"campaign", RP_SOURCE_DIR "/tests/data/sim_smoke.yaml", "--seeds", "2",
                            "--pg-stats", "--quiet", "--out", dir.File("c")},
                           dir);
  EXPECT_EQ(campaign.exit_code, 2);  // Once, before any seed runs.
  EXPECT_FALSE(std::filesystem::exists(dir.File("c/campaign.json")));
}

TEST(SimE2e, OverloadIsShedByRateLimitsAndBreakersOpenAndClose) {
  TempDir dir;
  const std::string out = dir.File("results");
  SimRun run = RunSim({"run", RP_SOURCE_DIR "/tests/data/sim_overload.yaml", "--out", out}, dir);
  ASSERT_EQ(run.exit_code, 0) << run.output;
  json s = ReadJson(out + "/summary.json");
  ASSERT_FALSE(s.is_discarded());
  EXPECT_TRUE(s["verification"]["ok"].get<bool>());
  EXPECT_GT(s["ops"]["claim"]["refused"].get<int64_t>(), 0);
  EXPECT_EQ(s["ops"]["claim"]["by_status"]["429"], s["ops"]["claim"]["refused"]);
  EXPECT_EQ(s["ops"]["claim"]["errors"].get<int64_t>(), 0);
  EXPECT_GT(s["server"]["limit_refusals"].get<double>(), 0);
  EXPECT_EQ(s["server"]["breakers_open_max"].get<double>(), 1);
  for (const json& check : s["checks"]) EXPECT_TRUE(check["passed"].get<bool>()) << check.dump();
}

TEST(SimE2e, CapacityWithoutAKneeSaysSoAndWritesNoLimits) {
  TempDir dir;
  const std::string out = dir.File("results");
  // An SLO no step can keep: the first step breaks it, so there is no knee to size limits from.
  SimRun run =
      RunSim({"capacity", RP_SOURCE_DIR "/tests/data/sim_smoke.yaml", "--out", out, "--start-rate",
              "10", "--steps", "2", "--step-s", "2", "--slo-p99-ms", "0.01", "--quiet"},
             dir);
  EXPECT_EQ(run.exit_code, 2) << run.output;
  EXPECT_NE(run.output.find("No knee: the first step already broke the SLO"), std::string::npos)
      << run.output;
  EXPECT_TRUE(std::filesystem::exists(out + "/capacity.md"));
  EXPECT_FALSE(std::filesystem::exists(out + "/limits.yaml"));
}

// A green result means the plan happened: a run whose arrivals were dropped, or whose fault did
// not apply, fails and says why — whatever its own checks say.
TEST(SimE2e, ARunWhoseLoadOrFaultDidNotHappenFails) {
  TempDir dir;
  const std::string base = R"(seed: 9
system: {claim_scheme: batched, packet_ttl_s: 3, scan_interval_ms: 100}
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
system: {claim_scheme: batched, packet_ttl_s: 3, scan_interval_ms: 100}
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
system: {claim_scheme: batched, packet_ttl_s: 3, scan_interval_ms: 100}
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
system: {claim_scheme: mem_lock, redis: true, ledger: postgres, packet_ttl_s: 3}
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
system: {claim_scheme: batched, packet_ttl_s: 2}
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

}  // namespace
}  // namespace rp::testing

namespace rp::testing {
namespace {

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
