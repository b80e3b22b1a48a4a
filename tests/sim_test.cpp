// rp-sim's parts that need no running system: the strict scenario loader, the check parser, the
// phase shapes, the log-linear histogram's accuracy, and the Prometheus text parser.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <random>

#include "common/prometheus_text.h"
#include "simulator/scenario/scenario.h"
#include "simulator/stats/histogram.h"
#include "tests/support/harness.h"

namespace rp::sim {
namespace {

class ScenarioFileTest : public ::testing::Test {
 protected:
  std::string Write(const std::string& text) {
    const std::string path = dir_.File("s.yaml");
    std::ofstream(path) << text;
    return path;
  }
  rp::testing::TempDir dir_;
};

const char* kMinimal = R"(name: t
load:
  phases:
    - {name: p, duration_s: 5, rate: 10}
flows:
  hot: {weight: 1}
)";

TEST_F(ScenarioFileTest, MinimalScenarioGetsDefaults) {
  auto s = LoadScenario(Write(kMinimal));
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  EXPECT_EQ(s->name, "t");
  EXPECT_EQ(s->system.claim_scheme, "db_lock");
  EXPECT_EQ(s->DurationS(), 5);
  EXPECT_EQ(s->flows.hot.shares, 5000);
}

TEST_F(ScenarioFileTest, UnknownKeyIsRejectedWithFileAndLine) {
  std::string text = kMinimal;
  text += "sytem: {claim_scheme: batched}\n";
  auto s = LoadScenario(Write(text));
  ASSERT_FALSE(s.ok());
  const std::string m = s.status().message();
  EXPECT_NE(m.find("s.yaml:7:"), std::string::npos) << m;
  EXPECT_NE(m.find("unknown key 'sytem'"), std::string::npos) << m;
  EXPECT_NE(m.find("system"), std::string::npos) << m;  // The list of what was expected.
}

TEST_F(ScenarioFileTest, BadValuesNameWhatWasExpected) {
  struct Case {
    std::string extra;
    std::string expect;
  };
  const std::vector<Case> cases = {
      {"system: {claim_scheme: optimistic}\n", "expected db_lock | batched"},
      {"system: {server_threads: 0}\n", "must be in 1 .. 64"},
      {"system: {claim_scheme: mem_lock}\n", "system.redis must be true"},
      {"seed: -3\n", "seed must be"},
      {"checks: [\"p99(claim) < 50\"]\n", "latencies are in ms"},
      {"checks: [\"median(claim) < 5ms\"]\n", "is not a known metric"},
      {"faults: [{at_s: 2, action: explode}]\n", "expected redis_stop"},
      {"faults: [{at_s: 9, action: mock_reset}]\n", "after the load ends"},
      {"faults: [{at_s: 1, action: redis_stop}]\n", "needs system.redis: true"},
      {"faults: [{at_s: 1, action: mock_switch}]\n", "'switch' is required"},
  };
  for (const Case& c : cases) {
    auto s = LoadScenario(Write(std::string(kMinimal) + c.extra));
    ASSERT_FALSE(s.ok()) << c.extra;
    EXPECT_NE(s.status().message().find(c.expect), std::string::npos)
        << c.extra << " -> " << s.status().message();
  }
}

TEST_F(ScenarioFileTest, RangesAndPhaseRulesAreChecked) {
  auto bad = LoadScenario(Write(R"(name: t
load:
  phases: [{name: p, duration_s: 5, rate: 10}]
flows:
  c2c: {weight: 1, count: [30, 2]}
)"));
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("s.yaml:5:"), std::string::npos) << bad.status().message();
  auto closed = LoadScenario(Write(R"(name: t
load:
  model: closed
  phases: [{name: p, duration_s: 5, rate: 10}]
flows:
  hot: {weight: 1}
)"));
  ASSERT_FALSE(closed.ok());
  EXPECT_NE(closed.status().message().find("needs users"), std::string::npos);
}

TEST(ScenarioShipped, EveryShippedScenarioLoads) {
  int loaded = 0;
  for (const auto& e : std::filesystem::directory_iterator(RP_SOURCE_DIR "/scenarios")) {
    if (e.path().extension() != ".yaml") continue;
    auto s = LoadScenario(e.path().string());
    EXPECT_TRUE(s.ok()) << s.status().ToString();
    ++loaded;
  }
  EXPECT_GE(loaded, 7);
}

TEST(CheckParser, ParsesEachForm) {
  auto p99 = ParseCheck("p99(claim) < 50ms");
  ASSERT_TRUE(p99.ok());
  EXPECT_EQ(p99->metric, "p99");
  EXPECT_EQ(p99->op, "claim");
  EXPECT_EQ(p99->comparison, "<");
  EXPECT_DOUBLE_EQ(p99->threshold, 50);
  auto err = ParseCheck("error_rate(send) <= 0.5%");
  ASSERT_TRUE(err.ok());
  EXPECT_DOUBLE_EQ(err->threshold, 0.5);
  auto drift = ParseCheck("recon.drift == 0");
  ASSERT_TRUE(drift.ok());
  EXPECT_EQ(drift->metric, "recon.drift");
  EXPECT_FALSE(ParseCheck("throughput(claim) > 10ms").ok());
}

TEST(PhaseShape, RatesFollowTheShape) {
  Phase ramp;
  ramp.shape = "ramp";
  ramp.duration_s = 10;
  ramp.rate = 100;
  ramp.rate_end = 300;
  EXPECT_DOUBLE_EQ(ramp.RateAt(0), 100);
  EXPECT_DOUBLE_EQ(ramp.RateAt(5), 200);
  Phase waves;
  waves.shape = "waves";
  waves.rate = 50;
  waves.wave_period_s = 5;
  waves.wave_on_s = 2;
  EXPECT_DOUBLE_EQ(waves.RateAt(1.9), 50);
  EXPECT_DOUBLE_EQ(waves.RateAt(2.1), 0);
  EXPECT_DOUBLE_EQ(waves.RateAt(5.5), 50);
  Phase spike;
  spike.shape = "spike";
  spike.rate = 10;
  spike.spike_rate = 90;
  spike.spike_at_s = 3;
  spike.spike_s = 2;
  EXPECT_DOUBLE_EQ(spike.RateAt(2.9), 10);
  EXPECT_DOUBLE_EQ(spike.RateAt(4.9), 90);
  EXPECT_DOUBLE_EQ(spike.RateAt(5.0), 10);
}

TEST(Histogram, BucketsCoverEveryValueOnce) {
  for (int64_t v : {0, 1, 255, 256, 257, 511, 512, 1'000'000, 999'999'999}) {
    const int b = LatencyHistogram::BucketOf(v);
    EXPECT_LE(LatencyHistogram::BucketLow(b), v);
    EXPECT_GT(LatencyHistogram::BucketHigh(b), v);
  }
}

TEST(Histogram, PercentilesWithinOnePercentOfExact) {
  std::mt19937_64 rng(5);
  std::lognormal_distribution<double> dist(7.0, 1.5);  // ~1 ms median, long tail (in us).
  std::vector<int64_t> values;
  LatencyHistogram h;
  for (int i = 0; i < 200000; ++i) {
    const int64_t v = static_cast<int64_t>(dist(rng));
    values.push_back(v);
    h.Record(v);
  }
  std::sort(values.begin(), values.end());
  for (double q : {0.5, 0.9, 0.99, 0.999}) {
    const int64_t exact = values[static_cast<size_t>(std::ceil(q * values.size())) - 1];
    const int64_t approx = h.ValueAtQuantile(q);
    EXPECT_LE(std::llabs(approx - exact), std::max<int64_t>(1, exact / 100)) << "q=" << q;
  }
  EXPECT_EQ(h.ValueAtQuantile(1.0), values.back());
  EXPECT_EQ(h.count(), 200000);
}

TEST(PrometheusText, ParsesLabelsEscapesAndHistograms) {
  const std::string text = R"(# HELP rp_claims_total Claims by result.
# TYPE rp_claims_total counter
rp_claims_total{scheme="db_lock",result="won"} 12
rp_claims_total{scheme="db_lock",result="sold_out"} 30
rp_http_request_duration_seconds_bucket{route="/v1/x",le="0.005"} 7
rp_http_request_duration_seconds_bucket{route="/v1/x",le="+Inf"} 9
weird{path="a\"b\\c"} 1.5e3
recon_drift_cents 0
)";
  auto samples = prom::ParseText(text);
  ASSERT_TRUE(samples.ok()) << samples.status().ToString();
  ASSERT_EQ(samples->size(), 6u);
  EXPECT_EQ((*samples)[0].labels.at("result"), "won");
  EXPECT_EQ((*samples)[3].labels.at("le"), "+Inf");
  EXPECT_EQ((*samples)[4].labels.at("path"), "a\"b\\c");
  EXPECT_DOUBLE_EQ((*samples)[4].value, 1500);
  EXPECT_DOUBLE_EQ(prom::Sum(*samples, "rp_claims_total"), 42);
  EXPECT_FALSE(prom::ParseText("x{a=\"unterminated} 1\n").ok());
  EXPECT_FALSE(prom::ParseText("x 12abc\n").ok());
}

}  // namespace
}  // namespace rp::sim
