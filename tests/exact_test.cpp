// rp-sim --exact without valgrind: the test build is ASan, which valgrind cannot run, so the
// callgrind slice itself is tests/exact_planted.sh's (`./rp exact-trust`). Here: the totals read
// from a callgrind output file (a checked-in sample), the command line rp-server is started
// with, the slice a scenario becomes, and the runs --exact refuses.
#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>
#include <sstream>

#include "simulator/run/exact.h"
#include "simulator/scenario/scenario.h"

namespace rp::sim {
namespace {

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

Scenario CiRegress() {
  Result<Scenario> s = LoadScenario(std::string(RP_SOURCE_DIR) + "/scenarios/ci_regress.yaml");
  EXPECT_TRUE(s.ok()) << s.status().ToString();
  return s.ok() ? std::move(s.value()) : Scenario{};
}

bool Has(const std::vector<std::string>& argv, const std::string& arg) {
  return std::find(argv.begin(), argv.end(), arg) != argv.end();
}

TEST(CallgrindTotals, ReadsTheSampleDumpsTotalsLine) {
  const std::string text =
      ReadFile(std::string(RP_SOURCE_DIR) + "/tests/data/callgrind.out.sample");
  ASSERT_FALSE(text.empty());
  Result<uint64_t> ir = ParseCallgrindTotals(text);
  ASSERT_TRUE(ir.ok()) << ir.status().ToString();
  EXPECT_EQ(*ir, 645416073u);  // The sample's "totals:" line.
}

TEST(CallgrindTotals, TotalsWinOverSummaryWhichServesAlone) {
  EXPECT_EQ(*ParseCallgrindTotals("events: Ir\nsummary: 12\nfn=f\n1 7\ntotals: 34\n"), 34u);
  EXPECT_EQ(*ParseCallgrindTotals("events: Ir Dr\nsummary: 56 78\n"), 56u);
}

TEST(CallgrindTotals, AFileWithoutTotalsIsAnError) {
  EXPECT_FALSE(ParseCallgrindTotals("").ok());
  EXPECT_FALSE(ParseCallgrindTotals("events: Ir\nfn=f\n1 7\n").ok());
  EXPECT_FALSE(ParseCallgrindTotals("totals: many\n").ok());
}

TEST(CallgrindCommand, CountsOnlyTheClaimPathInOneTotal) {
  const std::vector<std::string> argv =
      CallgrindCommand("/usr/bin/valgrind", "/tmp/work/callgrind.out");
  ASSERT_FALSE(argv.empty());
  EXPECT_EQ(argv.front(), "/usr/bin/valgrind");
  EXPECT_TRUE(Has(argv, "--tool=callgrind"));
  EXPECT_TRUE(Has(argv, "--callgrind-out-file=/tmp/work/callgrind.out"));
  EXPECT_TRUE(Has(argv, "--collect-atstart=no"));
  EXPECT_TRUE(Has(argv, "--separate-threads=no"));
  EXPECT_TRUE(Has(argv, "--vgdb=yes"));  // callgrind_control zeroes and dumps through it.
  ASSERT_FALSE(kCallgrindToggles.empty());
  for (const std::string& fn : kCallgrindToggles) {
    EXPECT_TRUE(Has(argv, "--toggle-collect=" + fn)) << fn;
  }
  EXPECT_TRUE(Has(argv, "--toggle-collect=rp::ledger::SqliteWriter::RunBatch(*)"));
}

TEST(CallgrindCommand, TheServerStartsUnderItWithoutWorkersAndWithTime) {
  const ServerLaunch launch = ExactServerLaunch("/usr/bin/valgrind", "/tmp/work");
  ASSERT_FALSE(launch.prefix.empty());
  EXPECT_EQ(launch.prefix.front(), "/usr/bin/valgrind");
  EXPECT_TRUE(Has(launch.prefix, "--callgrind-out-file=/tmp/work/callgrind.out"));
  EXPECT_TRUE(Has(launch.extra_args, "--no-workers"));
  EXPECT_GE(launch.start_timeout_ms, 60'000);
  EXPECT_GE(launch.stop_timeout_ms, 60'000);
}

TEST(ExactSlice, OneConnectionOneUserExactlyNClaims) {
  Scenario s = CiRegress();
  ShapeExactSlice(s, 123);
  EXPECT_EQ(s.load.model, "closed");
  EXPECT_EQ(s.load.connections, 1);
  EXPECT_EQ(s.load.journeys_max, 123);
  ASSERT_EQ(s.load.phases.size(), 1u);
  EXPECT_EQ(s.load.phases[0].users, 1);
  EXPECT_EQ(s.load.phases[0].think_ms, 0);
  EXPECT_TRUE(s.checks.empty());
  EXPECT_TRUE(s.faults.empty());
  ASSERT_NE(ServerConfigKey(s.system, "scanner.interval_ms"), nullptr);
  EXPECT_GE(ServerConfigKey(s.system, "scanner.interval_ms")->get<int64_t>(), 3'600'000);
}

TEST(ExactSlice, RefusesATargetAndAMissingValgrind) {
  const Scenario s = CiRegress();
  RunOptions o;
  EXPECT_TRUE(CheckExactFits(o, s, "/usr/bin/valgrind").ok());
  o.target = "http://127.0.0.1:8080";
  Status st = CheckExactFits(o, s, "/usr/bin/valgrind");
  EXPECT_FALSE(st.ok());
  EXPECT_NE(st.message().find("--target"), std::string::npos) << st.message();
  o.target.clear();
  st = CheckExactFits(o, s, "");
  EXPECT_FALSE(st.ok());
  EXPECT_NE(st.message().find("install valgrind"), std::string::npos) << st.message();
}

TEST(ExactSlice, RefusesWhatItCannotCountOrCompare) {
  RunOptions o;
  Scenario s = CiRegress();
  s.flows.c2c.weight = 1;  // Sends and payments: not claims alone.
  EXPECT_FALSE(CheckExactFits(o, s, "/usr/bin/valgrind").ok());
  s = CiRegress();
  s.system.ledger = "postgres";  // The database's work is another process's.
  EXPECT_FALSE(CheckExactFits(o, s, "/usr/bin/valgrind").ok());
  s = CiRegress();
  o.exact_claims = static_cast<int64_t>(s.flows.hot.packets) * s.flows.hot.shares + 1;
  EXPECT_FALSE(CheckExactFits(o, s, "/usr/bin/valgrind").ok());  // Not every claim could win.
}

}  // namespace
}  // namespace rp::sim
