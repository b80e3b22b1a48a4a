// rp-sim end to end: the real binary starts its own redis/rp-mock/rp-server, replays a scenario,
// verifies the money and writes a results folder (and its report renders in a real browser);
// every campaign fault applies; overload is shed. Runs that must fail: sim_e2e_failures_test.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include <httplib.h>

#include "common/process/process.h"
#include "common/prometheus_text.h"
#include "tests/support/harness.h"
#include "tests/support/sim_process.h"

namespace rp::testing {
namespace {

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
  (void)child->Wait(60000);  // The caller judges the output, not the exit code.
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
  EXPECT_EQ(s["schema_version"], 4);
  // What rp-server's own loader made of the scenario's system.server, before the run.
  EXPECT_EQ(s["system"]["server_config"]["packet"]["ttl_s"], 4);
  EXPECT_EQ(s["system"]["server_settings"]["packet.ttl_s"], 4);
  EXPECT_EQ(s["system"]["server_settings"]["claim.scheme"], "batched");
  EXPECT_FALSE(s["system"]["server_settings"].contains("secrets.auth"));
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
system: {claim_scheme: db_lock, server: {packet: {ttl_s: 2}}}
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
system: {claim_scheme: mem_lock, redis: true, server: {packet: {ttl_s: 3}}}
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

}  // namespace
}  // namespace rp::testing
