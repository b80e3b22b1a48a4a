// The checks module: every form a scenario can write parses to what it says (units converted,
// phases and server series recognised) and bad ones are refused with a reason; evaluation per
// phase, per series and abort_on_fail against hand-built stats, so each figure is known exactly.
#include <gtest/gtest.h>

#include "simulator/checks/evaluate.h"
#include "simulator/results/results.h"
#include "simulator/scenario/check.h"

namespace rp::sim {
namespace {

TEST(CheckParse, LatencyStatisticsAndUnits) {
  struct Case {
    const char* text;
    const char* metric;
    double quantile;
    double threshold_ms;
  };
  for (const Case& c : std::initializer_list<Case>{
           {"p99(claim) < 50ms", "p99", 0.99, 50},
           {"p99.9(claim) < 2s", "p99.9", 0.999, 2000},
           {"p99.99(claim) < 1500us", "p99.99", 0.9999, 1.5},
           {"p75(send) < 3ms", "p75", 0.75, 3},
           {"med(send) < 3ms", "med", 0.5, 3},
           {"max(detail) <= 1s", "max", 1.0, 1000},
           {"min(claim) >= 100\xC2\xB5s", "min", 0.0, 0.1},
           {"avg(claim) < 20ms", "avg", -1, 20},
           {"admitted_p99.9(claim) < 200ms", "admitted_p99.9", 0.999, 200},
       }) {
    Result<CheckSpec> p = ParseCheck(c.text);
    ASSERT_TRUE(p.ok()) << c.text << ": " << p.status().ToString();
    EXPECT_EQ(p->metric, c.metric) << c.text;
    EXPECT_EQ(p->source, CheckSource::kClient) << c.text;
    EXPECT_DOUBLE_EQ(p->quantile, c.quantile) << c.text;
    EXPECT_DOUBLE_EQ(p->threshold, c.threshold_ms) << c.text;
    EXPECT_TRUE(p->IsLatency()) << c.text;
  }
}

TEST(CheckParse, PhasesSeriesAndFigures) {
  Result<CheckSpec> phase = ParseCheck("p99(claim, phase = peak) < 200ms");
  ASSERT_TRUE(phase.ok()) << phase.status().ToString();
  EXPECT_EQ(phase->op, "claim");
  EXPECT_EQ(phase->phase, "peak");
  EXPECT_EQ(phase->Subject(), "p99(claim, phase=peak)");
  Result<CheckSpec> lag = ParseCheck("max(rp_queue_lag_seconds) < 5");
  ASSERT_TRUE(lag.ok()) << lag.status().ToString();
  EXPECT_EQ(lag->source, CheckSource::kServerSeries);
  EXPECT_EQ(lag->series, "rp_queue_lag_seconds");
  EXPECT_DOUBLE_EQ(lag->threshold, 5);
  Result<CheckSpec> rate = ParseCheck("rate(rp_scheme_fallbacks_total) == 0");
  ASSERT_TRUE(rate.ok()) << rate.status().ToString();
  EXPECT_EQ(rate->metric, "rate");
  EXPECT_TRUE(ParseCheck("rate(rp_claims_total, phase=peak) > 10/s").ok());
  EXPECT_TRUE(ParseCheck("throughput(claim, phase=peak) > 100/s").ok());
  EXPECT_TRUE(ParseCheck("throughput(claim) > 100").ok());
  EXPECT_TRUE(ParseCheck("error_rate(claim, phase=peak) < 1%").ok());
  EXPECT_EQ(ParseCheck("server.commits_per_claim_attempt < 2")->source, CheckSource::kServerFigure);
  EXPECT_EQ(ParseCheck("recon.drift == 0")->source, CheckSource::kRecon);
}

TEST(CheckParse, RefusesWhatItCannotMean) {
  struct Case {
    const char* text;
    const char* why;
  };
  for (const Case& c : std::initializer_list<Case>{
           {"p99(claim) < 50", "needs a latency unit"},
           {"p100(claim) < 5ms", "is not a known statistic"},
           {"p0(claim) < 5ms", "is not a known statistic"},
           {"median(claim) < 5ms", "is not a known statistic"},
           {"p99(claim, phase=) < 5ms", "takes one 'phase=NAME'"},
           {"p99(claim, users=3) < 5ms", "takes one 'phase=NAME'"},
           {"p99(claim, phase=a, phase=b) < 5ms", "takes one 'phase=NAME'"},
           {"admitted_p99(claim, phase=peak) < 5ms", "cannot be taken per phase"},
           {"ok_p99(claim, phase=peak) < 5ms", "cannot be taken per phase"},
           {"ok_error_rate(claim) < 5%", "is not a known statistic"},
           {"admitted_ok_p99(claim) < 5ms", "is not a known statistic"},
           {"recovery_s(claim, phase=peak) < 5s", "cannot be taken per phase"},
           {"max(rp_queue_lag_seconds) < 5ms", "write no unit"},
           {"p99(rp_queue_lag_seconds) < 5", "those take max, min, avg, last, increase or rate"},
           {"increase(claim) > 3", "is not a known statistic"},
           {"throughput(claim) > 10ms", "needs its limit in /s"},
           {"error_rate(claim) < 1", "needs its limit in %"},
           {"count(claim) > 3%", "a plain number"},
           {"p99 < 5ms", "needs an operation in parentheses"},
           {"p99(claim < 5ms", "no closing parenthesis"},
           {"p99(Claim) < 5ms", "bad operation name"},
           {"p99(claim) ~ 5ms", "needs one of"},
           {"p99(claim) < -5ms", "non-negative"},
           {"latency(claim) < 5ms", "is not a known statistic"},
           {"server.nope > 1", "names no server figure"},
       }) {
    Result<CheckSpec> p = ParseCheck(c.text);
    ASSERT_FALSE(p.ok()) << c.text;
    EXPECT_NE(p.status().message().find(c.why), std::string::npos)
        << c.text << " -> " << p.status().message();
  }
}

// Two phases of 2 s: warm (claims of 1 ms, none failing), peak (claims of 100 ms, a quarter 503).
class CheckEval : public ::testing::Test {
 protected:
  void SetUp() override {
    scenario_.load.phases = {Phase{.name = "warm", .duration_s = 2, .rate = 10},
                             Phase{.name = "peak", .duration_s = 2, .rate = 50}};
    for (int64_t sec = 0; sec < 2; ++sec) {
      for (int i = 0; i < 10; ++i) stats_.Record("claim", sec, 200, 1000);
    }
    for (int64_t sec = 2; sec < 4; ++sec) {
      for (int i = 0; i < 30; ++i) stats_.Record("claim", sec, 200, 100'000);
      for (int i = 0; i < 10; ++i) stats_.Record("claim", sec, 503, 100'000);
    }
    columns_ = {"rp_queue_lag_seconds", "rp_claims_total"};
    // Scrapes at 0.5 s steps; the counter restarts from zero at 3.0 s (a server restart).
    const double lag[] = {0, 1, 0, 7, 2, 1, 0, 0};
    const double claims[] = {0, 10, 20, 30, 40, 50, 5, 15};
    for (int i = 0; i < 8; ++i) rows_.push_back({0.5 * i, true, 1, {lag[i], claims[i]}});
  }

  CheckResult Eval(const std::string& text) {
    Result<CheckSpec> c = ParseCheck(text);
    EXPECT_TRUE(c.ok()) << c.status().ToString();
    CheckInputs in{&scenario_, &stats_, 4.0, nullptr, &rows_, &columns_};
    std::string why;
    std::optional<CheckResult> r = EvaluateCheck(*c, in, &why);
    if (!r) return CheckResult{text, false, -1, why};
    return *r;
  }

  Scenario scenario_;
  RunStats stats_;
  std::vector<std::string> columns_;
  std::vector<MetricsRow> rows_;
};

TEST_F(CheckEval, PerPhaseStatisticsSeeOnlyTheirPhase) {
  EXPECT_TRUE(Eval("p99(claim, phase=warm) < 2ms").passed);
  CheckResult peak = Eval("p99(claim, phase=peak) < 2ms");
  EXPECT_FALSE(peak.passed);
  EXPECT_NEAR(peak.actual, 100, 0.5);  // Within the histogram's 0.4%.
  EXPECT_NE(peak.detail.find("p99(claim, phase=peak) = "), std::string::npos) << peak.detail;
  EXPECT_DOUBLE_EQ(Eval("error_rate(claim, phase=warm) == 0%").actual, 0);
  EXPECT_DOUBLE_EQ(Eval("error_rate(claim, phase=peak) < 1%").actual, 25);
  EXPECT_DOUBLE_EQ(Eval("throughput(claim, phase=peak) > 1/s").actual, 40);
  EXPECT_DOUBLE_EQ(Eval("count(claim, phase=warm) > 1").actual, 20);
  EXPECT_DOUBLE_EQ(Eval("count(claim) > 1").actual, 100);
  // avg and min are exact, not bucketed: (20 x 1 ms + 80 x 100 ms) / 100.
  EXPECT_DOUBLE_EQ(Eval("avg(claim) < 100ms").actual, 80.2);
  EXPECT_DOUBLE_EQ(Eval("min(claim) >= 1ms").actual, 1);
  // The unit a limit is written in is the unit of the reported value.
  CheckResult us = Eval("min(claim, phase=peak) > 5000us");
  EXPECT_TRUE(us.passed);
  EXPECT_DOUBLE_EQ(us.actual, 100'000);
  EXPECT_NE(us.detail.find("= 100000 us, limit > 5000 us"), std::string::npos) << us.detail;
  EXPECT_FALSE(Eval("p99(send) < 2ms").passed);  // No send requests: nothing to judge.
  EXPECT_NE(Eval("p99(send) < 2ms").detail.find("no send requests"), std::string::npos);
}

TEST_F(CheckEval, ServerSeriesStatisticsOverTheScrapes) {
  EXPECT_DOUBLE_EQ(Eval("max(rp_queue_lag_seconds) < 5").actual, 7);
  EXPECT_FALSE(Eval("max(rp_queue_lag_seconds) < 5").passed);
  EXPECT_DOUBLE_EQ(Eval("min(rp_queue_lag_seconds) >= 0").actual, 0);
  EXPECT_DOUBLE_EQ(Eval("last(rp_queue_lag_seconds) == 0").actual, 0);
  EXPECT_DOUBLE_EQ(Eval("avg(rp_queue_lag_seconds) < 5").actual, 11.0 / 8);
  // 50 before the restart, then 5 (counted from zero) and 10 more: 65 over 3.5 s.
  EXPECT_DOUBLE_EQ(Eval("increase(rp_claims_total) > 0").actual, 65);
  EXPECT_DOUBLE_EQ(Eval("rate(rp_claims_total) > 0").actual, 65 / 3.5);
  // Phase warm is [0, 2): scrapes at 0 .. 1.5 s.
  EXPECT_DOUBLE_EQ(Eval("max(rp_queue_lag_seconds, phase=warm) < 8").actual, 7);
  EXPECT_DOUBLE_EQ(Eval("increase(rp_claims_total, phase=warm) > 0").actual, 30);
  CheckResult missing = Eval("max(rp_stuck_orders) < 1");
  EXPECT_FALSE(missing.passed);
  EXPECT_NE(missing.detail.find("rp_stuck_orders was not scraped"), std::string::npos);
}

TEST_F(CheckEval, AbortOnFailWaitsForItsDelayAndNeverForChecksWithoutData) {
  Result<CheckSpec> slow = ParseCheck("p99(claim) < 50ms");
  ASSERT_TRUE(slow.ok());
  slow->abort_on_fail = true;
  slow->delay_abort_eval_s = 3;
  Result<CheckSpec> idle = ParseCheck("p99(send) < 1ms");  // No send requests yet.
  ASSERT_TRUE(idle.ok());
  idle->abort_on_fail = true;
  Result<CheckSpec> passive = ParseCheck("count(claim) < 5");  // Fails, but does not abort.
  ASSERT_TRUE(passive.ok());
  scenario_.checks = {*idle, *passive, *slow};
  CheckInputs in{&scenario_, &stats_, 4.0, nullptr, &rows_, &columns_};
  EXPECT_FALSE(FirstAbortingCheck(in, 2.5).has_value());
  std::optional<CheckResult> abort = FirstAbortingCheck(in, 3.0);
  ASSERT_TRUE(abort.has_value());
  EXPECT_EQ(abort->check, "p99(claim) < 50ms");
  // After the run every check is judged; one with nothing to judge fails with the reason.
  std::vector<CheckResult> all = EvaluateChecks(in);
  ASSERT_EQ(all.size(), 3u);
  EXPECT_FALSE(all[0].passed);
  EXPECT_NE(all[0].detail.find("no send requests were made"), std::string::npos);
  EXPECT_FALSE(all[1].passed);
  EXPECT_FALSE(all[2].passed);
}

// A reconciliation that never answered leaves its figures at zero; zero drift must not read as
// clean. One that answered is judged on what it found.
TEST_F(CheckEval, ReconChecksFailWhenReconNeverAnswered) {
  VerificationReport unanswered;  // recon_answered false, drift and discrepancies 0.
  CheckInputs in{&scenario_, &stats_, 4.0, &unanswered, &rows_, &columns_};
  for (const char* text : {"recon.drift == 0", "recon.discrepancies == 0"}) {
    std::string why;
    std::optional<CheckResult> r = EvaluateCheck(*ParseCheck(text), in, &why);
    EXPECT_FALSE(r.has_value()) << text;
    EXPECT_NE(why.find("reconciliation (/admin/recon) did not answer"), std::string::npos) << why;
  }
  scenario_.checks = {*ParseCheck("recon.drift == 0")};
  const std::vector<CheckResult> after = EvaluateChecks(in);
  ASSERT_EQ(after.size(), 1u);
  EXPECT_FALSE(after[0].passed);
  EXPECT_NE(after[0].detail.find("did not answer"), std::string::npos) << after[0].detail;

  VerificationReport drifted;
  drifted.recon_answered = true;
  drifted.recon_drift_cents = 5;
  in.verification = &drifted;
  CheckResult found = *EvaluateCheck(*ParseCheck("recon.drift == 0"), in);
  EXPECT_FALSE(found.passed);
  EXPECT_NE(found.detail.find("recon.drift = 5 cents"), std::string::npos) << found.detail;
  drifted.recon_drift_cents = 0;
  EXPECT_TRUE(EvaluateCheck(*ParseCheck("recon.drift == 0"), in)->passed);
}

// summary.json tells a reconciliation that found nothing from one that never answered.
TEST(Summary, SaysWhetherReconAnswered) {
  Scenario scenario;
  scenario.load.phases = {Phase{.name = "p", .duration_s = 1, .rate = 1}};
  LoadOutcome load;
  VerificationReport verification;
  RunReport report;
  report.scenario = &scenario;
  report.load = &load;
  report.verification = &verification;
  EXPECT_EQ(SummaryJson(report)["verification"]["recon_answered"], false);
  verification.recon_answered = true;
  EXPECT_EQ(SummaryJson(report)["verification"]["recon_answered"], true);
}

// A latency check times answers, and a fast 501 says nothing of a fast service: with nothing but
// errors there is no successful answer to time, whichever latency statistic and window.
TEST(CheckEvalErrors, LatencyOverNothingButErrorsFailsSayingSo) {
  Scenario scenario;
  scenario.load.phases = {Phase{.name = "p", .duration_s = 2, .rate = 600}};
  RunStats stats;
  for (int64_t sec = 0; sec < 2; ++sec) {
    for (int i = 0; i < 600; ++i) stats.Record("send", sec, 501, 17'000);
  }
  for (int i = 0; i < 50; ++i) stats.Record("claim", 0, 429, 1'000);
  const std::vector<MetricsRow> rows;
  const std::vector<std::string> columns;
  CheckInputs in{&scenario, &stats, 2.0, nullptr, &rows, &columns};
  for (const char* text :
       {"p99(send) < 50ms", "avg(send) < 50ms", "min(send) < 50ms", "max(send) < 50ms",
        "med(send) < 50ms", "p99(send, phase=p) < 50ms", "ok_p99(send) < 50ms",
        "ok_avg(send) < 50ms", "admitted_max(send) < 50ms"}) {
    scenario.checks = {*ParseCheck(text)};
    const std::vector<CheckResult> r = EvaluateChecks(in);
    ASSERT_EQ(r.size(), 1u);
    EXPECT_FALSE(r[0].passed) << text;
    EXPECT_NE(r[0].detail.find("1200 send answers was an error (501: 1200): no successful answer "
                               "to time"),
              std::string::npos)
        << text << " -> " << r[0].detail;
  }
  // Every claim refused: admitted_ has no answer to time at all.
  scenario.checks = {*ParseCheck("admitted_p99(claim) < 50ms")};
  const CheckResult refused = EvaluateChecks(in)[0];
  EXPECT_FALSE(refused.passed);
  EXPECT_NE(refused.detail.find("50 claim answers was refused (429)"), std::string::npos)
      << refused.detail;
}

// Some errors among the answers: a latency check still judges, and says how many were errors;
// ok_ times only the answers that are not errors.
TEST(CheckEvalErrors, SomeErrorsAreNamedAndOkLeavesThemOut) {
  Scenario scenario;
  scenario.load.phases = {Phase{.name = "p", .duration_s = 1, .rate = 100}};
  RunStats stats;
  for (int i = 0; i < 90; ++i) stats.Record("claim", 0, 200, 10'000);
  for (int i = 0; i < 10; ++i) stats.Record("claim", 0, 503, 1'000);
  for (int i = 0; i < 5; ++i) stats.Record("detail", 0, 200, 2'000);
  const std::vector<MetricsRow> rows;
  const std::vector<std::string> columns;
  CheckInputs in{&scenario, &stats, 1.0, nullptr, &rows, &columns};
  auto eval = [&in](const char* text) { return *EvaluateCheck(*ParseCheck(text), in); };
  const CheckResult p99 = eval("p99(claim) < 50ms");
  EXPECT_TRUE(p99.passed);
  EXPECT_NE(p99.detail.find("; 10 of the 100 answers timed were errors (503: 10)"),
            std::string::npos)
      << p99.detail;
  EXPECT_NE(eval("max(claim, phase=p) < 50ms").detail.find("10 of the 100 answers timed"),
            std::string::npos);
  EXPECT_DOUBLE_EQ(eval("min(claim) < 50ms").actual, 1);  // The fast 503s, timed.
  EXPECT_DOUBLE_EQ(eval("ok_min(claim) < 50ms").actual, 10);
  EXPECT_DOUBLE_EQ(eval("ok_avg(claim) < 50ms").actual, 10);  // Exact: errors left out.
  const CheckResult ok_p99 = eval("ok_p99(claim) < 5ms");
  EXPECT_FALSE(ok_p99.passed);
  EXPECT_NE(ok_p99.detail.find("ok_p99(claim) = 10"), std::string::npos) << ok_p99.detail;
  EXPECT_NE(ok_p99.detail.find("leaves out the 10 error answers of 100 (503: 10)"),
            std::string::npos)
      << ok_p99.detail;
  const CheckResult clean = eval("p99(detail) < 5ms");
  EXPECT_TRUE(clean.passed);
  EXPECT_EQ(clean.detail.find("error"), std::string::npos) << clean.detail;
}

}  // namespace
}  // namespace rp::sim
