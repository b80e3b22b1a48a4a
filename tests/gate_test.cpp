// The claim-scheme gate's parts, alone: the rank test, the per-figure judgement, the JUnit file a
// regression writes, the CPU read from /proc, and the figures taken from a summary.
#include <gtest/gtest.h>
#include <unistd.h>

#include <time.h>

#include <chrono>

#include "common/proc_cpu.h"
#include "simulator/results/junit.h"
#include "simulator/run/figures.h"
#include "simulator/run/gate.h"
#include "simulator/stats/rank_test.h"

namespace rp::sim {
namespace {

using nlohmann::json;

TEST(RankTest, ExactPValuesOfSmallSamples) {
  // Every one of 3 above every one of 3: 1 arrangement of C(6,3) = 20.
  RankTest all_above = MannWhitneyGreater({10, 11, 12}, {1, 2, 3});
  EXPECT_TRUE(all_above.exact);
  EXPECT_DOUBLE_EQ(all_above.u, 9);
  EXPECT_DOUBLE_EQ(all_above.p_value, 1.0 / 20);
  // Every one below: every arrangement has U >= 0.
  EXPECT_DOUBLE_EQ(MannWhitneyGreater({1, 2, 3}, {10, 11, 12}).p_value, 1.0);
  // Ties count a half and are permuted with the rest.
  RankTest tied = MannWhitneyGreater({5, 5}, {5, 5});
  EXPECT_DOUBLE_EQ(tied.u, 2);
  EXPECT_DOUBLE_EQ(tied.p_value, 1.0);
  EXPECT_DOUBLE_EQ(SmallestPValue(3, 3), 1.0 / 20);
  EXPECT_DOUBLE_EQ(SmallestPValue(1, 3), 1.0 / 4);
}

TEST(RankTest, LargeSamplesUseTheNormalApproximation) {
  std::vector<double> a, b;
  for (int i = 0; i < 30; ++i) {
    a.push_back(100 + i);
    b.push_back(i);
  }
  RankTest t = MannWhitneyGreater(a, b);
  EXPECT_FALSE(t.exact);
  EXPECT_LT(t.p_value, 1e-6);
  EXPECT_GT(MannWhitneyGreater(b, a).p_value, 0.999);
}

json Row(double cpu_ms, double per_ceiling = 0.2, bool passed = true) {
  return {{"scheme", "db_lock"},
          {"cpu_per_claim_in_healthz", cpu_ms * 6},
          {"cpu_ms_per_claim", cpu_ms},
          {"claims_per_s_per_ceiling", per_ceiling},
          {"claim_p99_ms", 30.0},
          {"claim_errors", 0.0},
          {"statements_per_claim", 6.0},
          {"claim_commits_per_claim", 0.25},
          {"redis_round_trips_per_claim", 0.0},
          {"passed", passed},
          {"verification_ok", true}};
}

const GateResult& Find(const std::vector<GateResult>& results, const std::string& figure) {
  for (const GateResult& r : results) {
    if (r.figure == figure) return r;
  }
  ADD_FAILURE() << "no result for " << figure;
  return results.front();
}

TEST(Gate, AgainstACommittedBaselineCpuIsJudgedInHealthzAnswersWithAWideLimit) {
  const std::vector<json> base = {Row(1.00), Row(1.01), Row(0.99)};
  GateOptions o;
  auto slower = JudgeScheme("db_lock", {Row(1.10), Row(1.09), Row(1.11)}, base, o);
  const GateResult& in_healthz = Find(slower, "cpu_per_claim_in_healthz");
  EXPECT_TRUE(in_healthz.passed) << in_healthz.Message();  // +10%: inside +40%.
  // The milliseconds move with the machine: reported, not gated, here.
  const GateResult& ms = Find(slower, "cpu_ms_per_claim");
  EXPECT_FALSE(ms.judged);
  EXPECT_NE(ms.Message().find("+10.00%"), std::string::npos) << ms.Message();
  auto much = JudgeScheme("db_lock", {Row(1.50), Row(1.51), Row(1.49)}, base, o);
  const GateResult& cpu = Find(much, "cpu_per_claim_in_healthz");
  EXPECT_FALSE(cpu.passed);
  EXPECT_NEAR(cpu.value, 9.00, 1e-9);
  EXPECT_NEAR(cpu.baseline, 6.00, 1e-9);
  EXPECT_NE(cpu.Message().find("+50.00%"), std::string::npos) << cpu.Message();
  // A tolerance given on the command line replaces the default.
  o.tolerances = {{"cpu_per_claim_in_healthz", 0.6}};
  EXPECT_TRUE(
      Find(JudgeScheme("db_lock", {Row(1.50)}, base, o), "cpu_per_claim_in_healthz").passed);
}

// Exact mode: instructions per claim, one slice a side, judged at 1 %; the timed figures describe
// valgrind and are reported only; the message writes the count whole.
TEST(Gate, ExactModeJudgesInstructionsAtOnePercentAndOnlyReportsTimes) {
  auto slice = [](double instructions, double p99_ms) {
    json row = Row(1.0);
    row["instructions_per_claim"] = instructions;
    row["claim_p99_ms"] = p99_ms;
    return row;
  };
  const std::vector<json> base = {slice(303700, 11), slice(303720, 12)};
  GateOptions o;
  o.exact = true;
  auto same = JudgeScheme("db_lock", {slice(303750, 40)}, base, o);
  EXPECT_TRUE(Find(same, "instructions_per_claim").passed);
  const GateResult& p99 = Find(same, "claim_p99_ms");
  EXPECT_FALSE(p99.judged);  // +250 %, under callgrind: not a verdict.
  EXPECT_TRUE(p99.passed);
  auto planted = JudgeScheme("db_lock", {slice(310200, 11)}, base, o);
  const GateResult& ipc = Find(planted, "instructions_per_claim");
  EXPECT_FALSE(ipc.passed);  // +2.1 %.
  EXPECT_NE(ipc.Message().find("310200 (median of 1) vs baseline 303710"), std::string::npos)
      << ipc.Message();
  EXPECT_NE(ipc.Message().find("+2.14%"), std::string::npos) << ipc.Message();
}

TEST(Gate, BuildsRunInterleavedJudgeCpuMillisecondsWhenTheRankTestCanSpeak) {
  const std::vector<json> other = {Row(1.00), Row(1.01), Row(0.99)};
  GateOptions o;
  o.interleaved = true;
  // +15%, but 3 runs against 3 cannot reach p < 0.01: reported, not gated.
  const GateResult three =
      Find(JudgeScheme("db_lock", {Row(1.15), Row(1.14), Row(1.16)}, other, o), "cpu_ms_per_claim");
  EXPECT_TRUE(three.passed) << three.Message();
  EXPECT_NE(three.note.find("not gated"), std::string::npos) << three.note;
  // Five a side, every run of this build above every run of the other: p = 1/252.
  const std::vector<json> five_other = {Row(1.00), Row(1.01), Row(0.99), Row(1.02), Row(0.98)};
  const std::vector<json> five_slower = {Row(1.15), Row(1.14), Row(1.16), Row(1.13), Row(1.17)};
  EXPECT_FALSE(Find(JudgeScheme("db_lock", five_slower, five_other, o), "cpu_ms_per_claim").passed);
  const std::vector<json> five_same = {Row(1.01), Row(0.99), Row(1.02), Row(1.00), Row(0.98)};
  EXPECT_TRUE(Find(JudgeScheme("db_lock", five_same, five_other, o), "cpu_ms_per_claim").passed);
  EXPECT_FALSE(
      Find(JudgeScheme("db_lock", {Row(1.10)}, other, o), "cpu_per_claim_in_healthz").judged);
}

TEST(Gate, ThroughputIsGatedOnlyWhenTheRankTestSaysTheDifferenceIsReal) {
  const std::vector<json> base = {Row(1, 0.20), Row(1, 0.21), Row(1, 0.19)};
  GateOptions o;
  // Half the throughput, but one run against three cannot reach p < 0.01: reported, not gated.
  const GateResult one =
      Find(JudgeScheme("db_lock", {Row(1, 0.10)}, base, o), "claims_per_s_per_ceiling");
  EXPECT_TRUE(one.passed);
  EXPECT_NE(one.note.find("not gated"), std::string::npos) << one.note;
  // Five runs, every one below every baseline run: p = 1/56 < 0.05.
  o.significance = 0.05;
  std::vector<json> five(5, Row(1, 0.10));
  EXPECT_FALSE(Find(JudgeScheme("db_lock", five, base, o), "claims_per_s_per_ceiling").passed);
  // Significant but inside the tolerance: passes.
  std::vector<json> slightly(5, Row(1, 0.18));
  EXPECT_TRUE(Find(JudgeScheme("db_lock", slightly, base, o), "claims_per_s_per_ceiling").passed);
}

TEST(Gate, AFailedRunAndMissingFiguresAreSaid) {
  const std::vector<json> base = {Row(1.0)};
  auto results = JudgeScheme("db_lock", {Row(1.0, 0.2, false)}, base, GateOptions{});
  EXPECT_FALSE(Find(results, "run_passed").passed);
  const GateResult& exact = Find(results, "instructions_per_claim");
  EXPECT_FALSE(exact.judged);
  EXPECT_TRUE(exact.passed);
  EXPECT_NE(exact.Message().find("not judged"), std::string::npos);
}

TEST(Gate, ToleranceArguments) {
  EXPECT_TRUE(ParseTolerance("cpu_ms_per_claim=0.1"));
  EXPECT_FALSE(ParseTolerance("cpu_ms_per_claim=inf"));
  EXPECT_FALSE(ParseTolerance("cpu_ms_per_claim=-1"));
  EXPECT_FALSE(ParseTolerance("cpu_ms_per_claim"));
  EXPECT_FALSE(ParseTolerance("speed=0.1"));
  EXPECT_FALSE(ParseTolerance("cpu_ms_per_claim=0.1x"));
}

TEST(JUnit, AGateFailureIsAFailingCaseAndRepeatedRunsGetTheirOwnSuites) {
  const json summary = {{"scenario", "ci_regress"},
                        {"system", {{"claim_scheme", "db_lock"}, {"ledger", "sqlite"}}},
                        {"checks", json::array()},
                        {"verification", {{"ok", true}, {"violations", json::array()}}}};
  auto results = JudgeScheme("db_lock", {Row(2.0)}, {Row(1.0)}, GateOptions{});
  JUnitSuite gate{"gate", {}};
  for (const GateResult& r : results) {
    gate.cases.push_back({r.scheme + ": " + r.figure, r.passed, !r.judged, r.Message()});
  }
  const std::string xml = JUnitXml({summary, summary}, {gate});
  EXPECT_NE(xml.find("name=\"ci_regress [db_lock, sqlite] run-1\""), std::string::npos) << xml;
  EXPECT_NE(xml.find("name=\"ci_regress [db_lock, sqlite] run-2\""), std::string::npos) << xml;
  EXPECT_NE(xml.find("<testsuites name=\"rp-sim\" tests=\"12\" failures=\"1\""), std::string::npos)
      << xml;
  EXPECT_NE(xml.find("name=\"db_lock: cpu_per_claim_in_healthz\">"), std::string::npos) << xml;
  EXPECT_NE(xml.find("<skipped message="), std::string::npos) << xml;
}

TEST(Figures, ARatioAboveTheCeilingIsAMeasurementErrorNotAFigure) {
  const json summary = {
      {"system", {{"claim_scheme", "db_lock"}}},
      {"healthz_ceiling_rps", 1000.0},
      {"healthz_ceiling_samples_rps", {1104.0, 896.0}},
      {"ops", {{"claim", {{"throughput_per_s", 1260.0}, {"by_status", {{"201", 5040}}}}}}},
      {"verification", {{"ok", true}}},
      {"cost", {{"cpu_ms_per_claim", 0.4}, {"statements_per_claim", nullptr}}},
      {"passed", true}};
  const json row = Figures(summary);
  EXPECT_TRUE(row["claims_per_s_per_ceiling"].is_null());
  ASSERT_EQ(row["measurement_errors"].size(), 1u);
  EXPECT_DOUBLE_EQ(row["cpu_ms_per_claim"].get<double>(), 0.4);
  EXPECT_TRUE(row["statements_per_claim"].is_null());
  const json median = MedianRow({row, row});
  EXPECT_TRUE(median["claims_per_s_per_ceiling"].is_null());
  EXPECT_EQ(median["measurement_errors"].size(), 2u);
}

TEST(ProcCpu, ParsesStatLinesWhoseNameHasSpacesAndParentheses) {
  auto st = ParseProcStat(
      "4242 (rp (a) b) S 17 4242 4242 0 -1 4194560 100 0 0 0 25 7 3 2 20 0 1 0 100 0 0");
  ASSERT_TRUE(st.ok()) << st.status().ToString();
  EXPECT_EQ(st->pid, 4242);
  EXPECT_EQ(st->ppid, 17);
  EXPECT_EQ(st->own_ticks, 32);
  EXPECT_EQ(st->reaped_ticks, 5);
  EXPECT_FALSE(ParseProcStat("garbage").ok());
}

TEST(ProcCpu, ATreeSumsItsLiveDescendantsAndWhatTheyReaped) {
  std::map<pid_t, ProcStat> table = {{10, {10, 1, 100, 50}},   // root, reaped 50
                                     {11, {11, 10, 20, 0}},    // child
                                     {12, {12, 11, 5, 1}},     // grandchild
                                     {13, {13, 1, 1000, 0}}};  // not in the tree
  EXPECT_DOUBLE_EQ(TreeCpuTicks(10, table), 176);
  EXPECT_DOUBLE_EQ(TreeCpuTicks(99, table), 0);
}

TEST(ProcCpu, ThisProcessIsChargedForWhatItComputes) {
  auto thread_cpu_s = [] {
    timespec ts{};
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) / 1e9;
  };
  Result<double> before = ProcessTreeCpuSeconds(getpid());
  ASSERT_TRUE(before.ok());
  const double spin_from_s = thread_cpu_s();
  const auto wall_from = std::chrono::steady_clock::now();
  volatile uint64_t x = 0;
  while (thread_cpu_s() - spin_from_s < 0.3) x = x + 1;  // 300 ms of CPU, by the thread's clock.
  const double wall_s =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - wall_from).count();
  Result<double> after = ProcessTreeCpuSeconds(getpid());
  ASSERT_TRUE(after.ok());
  // /proc agrees with the thread's own clock, to two ticks, and never exceeds the wall time.
  EXPECT_GT(*after - *before, 0.28);
  EXPECT_LT(*after - *before, wall_s + 0.02);
  EXPECT_FALSE(ProcessTreeCpuSeconds(-5).ok());
}

}  // namespace
}  // namespace rp::sim
