// CircuitBreaker alone (links rp_base): every transition driven by a scripted sequence of
// outcomes and a manual clock.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "server/base/breakers.h"
#include "server/base/circuit_breaker.h"

namespace rp::base {
namespace {

class BreakerTest : public ::testing::Test {
 protected:
  BreakerTest() { options_.calls_min = 10; }
  CircuitBreaker& Make() {
    breaker_ = std::make_unique<CircuitBreaker>(
        options_, &clock_, [this](BreakerState from, BreakerState to) {
          transitions_.push_back(std::string(Name(from)) + ">" + std::string(Name(to)));
        });
    return *breaker_;
  }
  // n calls, each allowed and recorded.
  void Calls(CircuitBreaker& b, int n, bool ok, int64_t latency_ms = 1) {
    for (int i = 0; i < n; ++i) {
      ASSERT_TRUE(b.Allow());
      b.Record(ok, latency_ms);
    }
  }

  ManualClock clock_{1'000'000};
  BreakerOptions options_;
  std::unique_ptr<CircuitBreaker> breaker_;
  std::vector<std::string> transitions_;
};

TEST_F(BreakerTest, FewerCallsThanTheMinimumNeverOpenIt) {
  CircuitBreaker& b = Make();
  Calls(b, 9, false);
  EXPECT_EQ(b.state(), BreakerState::kClosed);
  Calls(b, 1, false);  // The tenth: 10 of 10 failed.
  EXPECT_EQ(b.state(), BreakerState::kOpen);
  EXPECT_EQ(transitions_, std::vector<std::string>{"closed>open"});
}

TEST_F(BreakerTest, OpenRefusesThenHalfOpensLetsProbesThroughAndCloses) {
  CircuitBreaker& b = Make();
  Calls(b, 5, true);
  Calls(b, 5, false);  // 50% of 10: opens.
  ASSERT_EQ(b.state(), BreakerState::kOpen);
  EXPECT_FALSE(b.Allow());
  clock_.AdvanceMs(options_.open_ms - 1);
  EXPECT_FALSE(b.Allow());
  clock_.AdvanceMs(1);
  // Half-open: probes_max calls go through, the next is refused while they are out.
  for (int i = 0; i < options_.probes_max; ++i) EXPECT_TRUE(b.Allow());
  EXPECT_FALSE(b.Allow());
  for (int i = 0; i < options_.probes_max; ++i) b.Record(true, 1);
  EXPECT_EQ(b.state(), BreakerState::kClosed);
  // The window starts empty: the failures from before do not count towards a new trip.
  Calls(b, 4, false);
  EXPECT_EQ(b.state(), BreakerState::kClosed);
  EXPECT_EQ(transitions_,
            (std::vector<std::string>{"closed>open", "open>half_open", "half_open>closed"}));
  EXPECT_EQ(b.stats().refused, 3);
}

TEST_F(BreakerTest, AFailedOrSlowProbeOpensItAgainForAFullPeriod) {
  for (bool slow : {false, true}) {
    transitions_.clear();
    CircuitBreaker& b = Make();
    Calls(b, 10, false);
    clock_.AdvanceMs(options_.open_ms);
    ASSERT_TRUE(b.Allow());
    b.Record(/*ok=*/slow, slow ? options_.slow_call_ms : 1);  // Failed, or good but slow.
    EXPECT_EQ(b.state(), BreakerState::kOpen) << "slow " << slow;
    clock_.AdvanceMs(options_.open_ms - 1);
    EXPECT_FALSE(b.Allow()) << "the open period restarts at the failed probe";
    EXPECT_EQ(transitions_,
              (std::vector<std::string>{"closed>open", "open>half_open", "half_open>open"}));
  }
}

TEST_F(BreakerTest, SlowCallsOpenItByDefault) {
  CircuitBreaker& b = Make();
  Calls(b, 5, true, 1);
  Calls(b, 4, true, options_.slow_call_ms);
  EXPECT_EQ(b.state(), BreakerState::kClosed);  // 4 of 9, below the minimum anyway.
  Calls(b, 1, true, options_.slow_call_ms);     // 5 of 10 slow, none failed.
  EXPECT_EQ(b.state(), BreakerState::kOpen);
}

TEST_F(BreakerTest, SlowCallsNeverOpenItWithTheirRatioOff) {
  options_.slow_ratio_max = RatioOfPercent(0);
  CircuitBreaker& b = Make();
  Calls(b, 30, true, options_.slow_call_ms * 10);
  EXPECT_EQ(b.state(), BreakerState::kClosed);
}

// The config's defaults: slow from half the call's deadline on, open at half of the window's
// calls slow; an explicit threshold wins.
TEST(BreakerConfig, ASlowCallIsHalfTheDeadlineUnlessSet) {
  BreakerConfig c;
  EXPECT_EQ(c.Options(2000).slow_call_ms, 1000);
  EXPECT_EQ(c.Options(50).slow_call_ms, 25);
  EXPECT_DOUBLE_EQ(c.Options(2000).slow_ratio_max, 0.5);
  c.slow_call_ms = 300;
  EXPECT_EQ(c.Options(2000).slow_call_ms, 300);
  c.slow_percent_max = 0;
  EXPECT_GT(c.Options(2000).slow_ratio_max, 1.0);
}

TEST_F(BreakerTest, AnErrorCountOpensItBelowTheMinimumOfCalls) {
  options_.errors_max = 3;
  CircuitBreaker& b = Make();
  Calls(b, 2, false);
  EXPECT_EQ(b.state(), BreakerState::kClosed);
  Calls(b, 1, false);
  EXPECT_EQ(b.state(), BreakerState::kOpen);
}

TEST_F(BreakerTest, OutcomesOlderThanTheWindowNoLongerCount) {
  CircuitBreaker& b = Make();
  Calls(b, 9, false);
  clock_.AdvanceMs(options_.window_ms);  // Those nine have left the window.
  Calls(b, 9, true);
  Calls(b, 1, false);  // 1 of 10 in the window.
  EXPECT_EQ(b.state(), BreakerState::kClosed);
  Calls(b, 7, false);  // 8 of 17.
  EXPECT_EQ(b.state(), BreakerState::kClosed);
  Calls(b, 1, false);  // 9 of 18: half.
  EXPECT_EQ(b.state(), BreakerState::kOpen);
}

}  // namespace
}  // namespace rp::base
