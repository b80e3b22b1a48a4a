// What a run says about itself: the plan's arrivals against those offered (a spike with no rate
// is refused when the file is read, a load short of its plan fails a plan check).
#include <gtest/gtest.h>

#include <fstream>
#include <random>

#include "simulator/run/plan_checks.h"
#include "simulator/scenario/scenario.h"
#include "tests/util/temp_dir.h"

namespace rp::sim {
namespace {

TEST(SpikePhase, WithoutSpikeRateIsRefusedWithFileAndLine) {
  rp::testing::TempDir dir;
  const std::string path = dir.File("s.yaml");
  for (const std::string& spike :
       {std::string("{name: peak, duration_s: 10, shape: spike, rate: 100, spike_at_s: 3, "
                    "spike_s: 2}"),
        std::string("{name: peak, duration_s: 10, shape: spike, rate: 100, spike_rate: 0, "
                    "spike_at_s: 3, spike_s: 2}")}) {
    std::ofstream(path) << "name: t\nload:\n  phases:\n    - " << spike
                        << "\nflows:\n  hot: {weight: 1}\n";
    Result<Scenario> s = LoadScenario(path);
    ASSERT_FALSE(s.ok()) << spike;
    EXPECT_NE(s.status().message().find("s.yaml:4: a spike needs spike_rate > 0"),
              std::string::npos)
        << s.status().message();
  }
}

// Constant 100/s, ramp 100 -> 300/s, a spike to 600/s for 2 s over 100/s, waves of 300/s 2 s in
// every 5 s: 10 s each, 1000 + 2000 + 2000 + 1200 arrivals planned.
Scenario FourShapes() {
  Scenario s;
  s.load.phases = {
      Phase{.name = "flat", .duration_s = 10, .rate = 100},
      Phase{.name = "up", .duration_s = 10, .shape = "ramp", .rate = 100, .rate_end = 300},
      Phase{.name = "peak",
            .duration_s = 10,
            .shape = "spike",
            .rate = 100,
            .spike_rate = 600,
            .spike_at_s = 3,
            .spike_s = 2},
      Phase{.name = "rain",
            .duration_s = 10,
            .shape = "waves",
            .rate = 300,
            .wave_period_s = 5,
            .wave_on_s = 2}};
  return s;
}

LoadOutcome Offered(int64_t arrivals, double load_s) {
  LoadOutcome load;
  for (int64_t i = 0; i < arrivals; ++i) load.stats.RecordArrival(i % 40, 0);
  load.load_seconds = load_s;
  return load;
}

const CheckResult* Named(const std::vector<CheckResult>& checks, const std::string& name) {
  for (const CheckResult& c : checks) {
    if (c.check == name) return &c;
  }
  return nullptr;
}

TEST(PlanArrivals, ThePlanIsTheIntegralOfItsRate) {
  const Scenario s = FourShapes();
  EXPECT_NEAR(PlannedArrivalsTotal(s, 40), 6200, 1e-6);
  EXPECT_NEAR(PlannedArrivalsTotal(s, 1.5), 150, 1e-6);  // An aborted load: its stretch only.
  EXPECT_NEAR(PlannedArrivalsTotal(s, 25), 1000 + 2000 + 3 * 100 + 2 * 600, 1e-6);
  Scenario closed = s;
  closed.load.model = "closed";
  EXPECT_EQ(PlannedArrivalsTotal(closed, 40), 0.0);
}

// A generator that left the spike out (what a spike with no spike_rate planned) offered 1200
// arrivals fewer than the plan: the plan check fails and says so. One that offered twice the
// plan fails too.
TEST(PlanArrivals, OfferedArrivalsShortOfThePlanFail) {
  const Scenario s = FourShapes();
  const std::vector<CheckResult> holed = PlanChecks(s, Offered(5000, 40), {});
  const CheckResult* c = Named(holed, "offered_arrivals match the plan");
  ASSERT_NE(c, nullptr);
  EXPECT_EQ(c->kind, "plan");
  EXPECT_FALSE(c->passed);
  EXPECT_NE(c->detail.find("offered_arrivals = 5000, the plan's rate integrates to 6200"),
            std::string::npos)
      << c->detail;
  EXPECT_NE(c->detail.find("1200 fewer than planned"), std::string::npos) << c->detail;
  EXPECT_FALSE(
      Named(PlanChecks(s, Offered(12400, 40), {}), "offered_arrivals match the plan")->passed);
  EXPECT_TRUE(
      Named(PlanChecks(s, Offered(6200, 40), {}), "offered_arrivals match the plan")->passed);
}

// The bound is Poisson noise: 5 standard deviations (sqrt of the mean) and 5, at least 2%.
// Counts a correct generator draws all pass; a count just past the bound fails.
TEST(PlanArrivals, PoissonNoisePassesAndTheBoundIsWhatItSays) {
  EXPECT_DOUBLE_EQ(OfferedArrivalsSlack(10'000), 505);        // 5 x 100 + 5 > 2% (200).
  EXPECT_DOUBLE_EQ(OfferedArrivalsSlack(1'000'000), 20'000);  // 2% > 5 x 1000 + 5.
  std::mt19937_64 rng(11);
  for (double expected : {5.0, 200.0, 6200.0, 300'000.0}) {
    std::poisson_distribution<int64_t> draw(expected);
    for (int run = 0; run < 2000; ++run) {
      const int64_t offered = draw(rng);
      ASSERT_TRUE(OfferedArrivalsCheck(expected, offered).passed)
          << expected << " planned, " << offered << " offered";
    }
  }
  EXPECT_FALSE(OfferedArrivalsCheck(10'000, 9'494).passed);
  EXPECT_TRUE(OfferedArrivalsCheck(10'000, 9'495).passed);
  EXPECT_TRUE(OfferedArrivalsCheck(10'000, 10'505).passed);
  EXPECT_FALSE(OfferedArrivalsCheck(10'000, 10'506).passed);
}

}  // namespace
}  // namespace rp::sim
