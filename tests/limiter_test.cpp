// The rate limiter's behaviours with an injected clock: reject, warm-up, queueing, per-packet
// and per-user rules, concurrency, shadow mode, live reloads, and the global (Redis) buckets
// with their fail-open to the local limiter when Redis is killed.
#include <gtest/gtest.h>
#include <yaml-cpp/yaml.h>

#include "common/clock.h"
#include "common/process/redis_process.h"
#include "server/base/circuit_breaker.h"
#include "server/limits/limiter.h"
#include "server/limits/options.h"
#include "tests/util/temp_dir.h"

namespace rp::limits {
namespace {

const std::vector<std::string> kRoutes = {"", "send", "claim"};
constexpr int kSend = 1, kClaim = 2;

LimitRule Qps(std::string name, int64_t qps, Per per = Per::kRoute) {
  LimitRule r;
  r.name = std::move(name);
  r.route = "claim";
  r.per = per;
  r.qps = qps;
  r.burst = qps;
  return r;
}

Request ClaimOf(int64_t packet, int64_t user = 7) {
  return {kClaim, user, packet};
}

int Admitted(Limiter& l, const Request& r, int n) {
  int ok = 0;
  for (int i = 0; i < n; ++i) ok += l.Admit(r, false).kind == Decision::Kind::kAdmit;
  return ok;
}

TEST(Limiter, RejectRefillsAtTheRuleRate) {
  ManualClock clock(1'000'000);
  Limiter l(kRoutes, &clock, nullptr);
  l.Load({false, {Qps("claims", 10)}});
  EXPECT_EQ(Admitted(l, ClaimOf(1), 10), 10);
  Decision d = l.Admit(ClaimOf(1), false);
  ASSERT_EQ(d.kind, Decision::Kind::kRefuse);
  EXPECT_EQ(d.rule, "claims");
  EXPECT_EQ(d.retry_after_s, 1);
  EXPECT_EQ(d.message, kDefaultMessage);
  EXPECT_EQ(l.Admit({kSend, 7, 0}, false).kind, Decision::Kind::kAdmit);  // Other route.
  clock.AdvanceMs(100);                                                   // One token at 10/s.
  EXPECT_EQ(Admitted(l, ClaimOf(1), 3), 1);
  clock.AdvanceMs(10'000);  // Never more than the burst.
  EXPECT_EQ(Admitted(l, ClaimOf(1), 20), 10);
}

TEST(Limiter, WarmUpStartsAtAThirdAndRamps) {
  ManualClock clock(1'000'000);
  Limiter l(kRoutes, &clock, nullptr);
  LimitRule r = Qps("warm", 300);
  r.behavior = Behavior::kWarmUp;
  r.warm_up_ms = 10'000;
  l.Load({false, {r}});
  EXPECT_EQ(Admitted(l, ClaimOf(1), 1000), 100);  // Cold: a third of the burst.
  int64_t second_total = 0;
  for (int s = 0; s < 12; ++s) {
    clock.AdvanceMs(1000);
    second_total = Admitted(l, ClaimOf(1), 1000);
  }
  EXPECT_EQ(second_total, 300);  // Warm after 10 s of traffic.
  clock.AdvanceMs(10'000);       // Idle for a whole warm-up period: cold again.
  EXPECT_LE(Admitted(l, ClaimOf(1), 1000), 101);
}

TEST(Limiter, QueueingPacesAndRefusesPastTheLongestWait) {
  ManualClock clock(1'000'000);
  Limiter l(kRoutes, &clock, nullptr);
  LimitRule r = Qps("paced", 10);
  r.behavior = Behavior::kQueue;
  r.queue_ms_max = 500;
  l.Load({false, {r}});
  std::vector<int64_t> delays;
  for (int i = 0; i < 6; ++i) {
    Decision d = l.Admit(ClaimOf(1), false);
    ASSERT_NE(d.kind, Decision::Kind::kRefuse) << i;
    delays.push_back(d.delay_ms);
  }
  EXPECT_EQ(delays, (std::vector<int64_t>{0, 100, 200, 300, 400, 500}));
  Decision refused = l.Admit(ClaimOf(1), false);
  EXPECT_EQ(refused.kind, Decision::Kind::kRefuse);
  clock.AdvanceMs(600);  // The queue has drained.
  EXPECT_EQ(l.Admit(ClaimOf(1), false).delay_ms, 0);
}

TEST(Limiter, PerPacketRuleCapsOnePacketOnly) {
  ManualClock clock(1'000'000);
  Limiter l(kRoutes, &clock, nullptr);
  l.Load({false, {Qps("hot_packet", 5, Per::kPacket)}});
  EXPECT_EQ(Admitted(l, ClaimOf(1), 50), 5);
  EXPECT_EQ(Admitted(l, ClaimOf(2), 5), 5);
  EXPECT_EQ(Admitted(l, {kSend, 7, 0}, 50), 50);  // No packet: the rule does not apply.
}

TEST(Limiter, PerUserRuleAndBoundedKeys) {
  ManualClock clock(1'000'000);
  Limiter l(kRoutes, &clock, nullptr, /*keys_max=*/4);
  metrics::Hub hub;
  l.RegisterMetrics(hub);
  l.Load({false, {Qps("per_user", 2, Per::kUser)}});
  for (int64_t user = 1; user <= 10; ++user) {
    EXPECT_EQ(Admitted(l, ClaimOf(1, user), 5), 2) << user;
  }
  // Four buckets kept; the six users past them each pushed out a bucket still in use.
  EXPECT_NE(hub.Render().find(R"(rp_limit_keys_evicted_total{rule="per_user"} 6)"),
            std::string::npos);
  clock.AdvanceMs(1000);  // Buckets full again are forgotten before any in use.
  EXPECT_EQ(Admitted(l, ClaimOf(1, 11), 5), 2);
  EXPECT_NE(hub.Render().find(R"(rp_limit_keys{rule="per_user"} 1)"), std::string::npos);
}

// One client spraying packet ids through a per-packet warm-up rule (buckets that never look
// idle) fills the table; the busy packet's bucket must stay, with the tokens it has spent
// (forgetting it would hand the packet a fresh burst), and each sprayed key pushes out the
// least recently used one, not a scan of the table.
TEST(Limiter, SprayedKeysNeverPushOutABusyOne) {
  ManualClock clock(1'000'000);
  Limiter l(kRoutes, &clock, nullptr, /*keys_max=*/64);
  metrics::Hub hub;
  l.RegisterMetrics(hub);
  LimitRule r = Qps("per_packet", 30, Per::kPacket);
  r.behavior = Behavior::kWarmUp;
  r.warm_up_ms = 60'000;
  l.Load({false, {r}});
  EXPECT_EQ(Admitted(l, ClaimOf(1), 100), 10);  // Cold: a third of 30; the bucket is spent.
  for (int64_t sprayed = 2; sprayed < 10'000; ++sprayed) {
    EXPECT_EQ(Admitted(l, ClaimOf(sprayed, 99), 1), 1);
    if (sprayed % 32 == 0) {  // The hot packet, busy all along: still spent, never refilled.
      ASSERT_EQ(Admitted(l, ClaimOf(1), 1), 0) << "after " << sprayed << " sprayed keys";
    }
  }
  EXPECT_NE(hub.Render().find(R"(rp_limit_keys{rule="per_packet"} 64)"), std::string::npos);
}

TEST(Limiter, ConcurrencyHoldsSlotsUntilThePermitGoes) {
  ManualClock clock(1'000'000);
  Limiter l(kRoutes, &clock, nullptr);
  LimitRule r;
  r.name = "inflight";
  r.route = "*";
  r.concurrency = 2;
  l.Load({false, {r}});
  Decision a = l.Admit(ClaimOf(1), false);
  Decision b = l.Admit({kSend, 7, 0}, false);
  ASSERT_TRUE(a.permit && b.permit);
  EXPECT_EQ(l.Admit(ClaimOf(1), false).kind, Decision::Kind::kRefuse);
  a.permit.reset();
  EXPECT_EQ(l.Admit(ClaimOf(1), false).kind, Decision::Kind::kAdmit);  // Its permit dropped.
}

TEST(Limiter, ShadowRefusesNothingAndReloadKeepsCounts) {
  ManualClock clock(1'000'000);
  Limiter l(kRoutes, &clock, nullptr);
  metrics::Hub hub;
  l.RegisterMetrics(hub);
  l.Load({true, {Qps("claims", 3)}});
  EXPECT_EQ(Admitted(l, ClaimOf(1), 10), 10);
  EXPECT_NE(hub.Render().find(R"(rp_limit_shadow_refused_total{rule="claims"} 7)"),
            std::string::npos)
      << hub.Render();
  l.Load({false, {Qps("claims", 3)}});  // Live: the same rule, enforcing, fresh bucket.
  EXPECT_EQ(Admitted(l, ClaimOf(1), 10), 3);
  EXPECT_NE(hub.Render().find(R"(rp_limit_refused_total{rule="claims"} 7)"), std::string::npos);
  l.Load({});
  EXPECT_EQ(Admitted(l, ClaimOf(1), 10), 10);
}

TEST(LimitRules, ParseErrorsNameTheRuleAndField) {
  auto bad = [](nlohmann::json rule) {
    Result<LimitsConfig> r = ParseLimits({{"rules", {rule}}}, kRoutes, "test");
    return r.ok() ? std::string("ok") : r.status().message();
  };
  EXPECT_EQ(bad({{"name", "a"}, {"route", "claim"}, {"qps", 5}}), "ok");
  EXPECT_EQ(bad({{"name", "a"}, {"route", "clam"}, {"qps", 5}}),
            "test: rules[0].route: 'clam' is not one of * | send | claim");
  EXPECT_EQ(bad({{"name", "a"}, {"route", "claim"}}),
            "test: rules[0]: set exactly one of qps and concurrency");
  EXPECT_EQ(bad({{"name", "a"}, {"route", "claim"}, {"qps", 0}}),
            "test: rules[0].qps: 0 is outside 1..10000000");
  EXPECT_EQ(bad({{"name", "a"}, {"route", "claim"}, {"qps", 5}, {"behaviour", "queue"}}),
            "test: rules[0]: unknown field 'behaviour'");
  EXPECT_EQ(bad({{"name", "a"}, {"route", "claim"}, {"qps", 5}, {"behavior", "wait"}}),
            "test: rules[0].behavior: 'wait' is not one of reject | warm_up | queue");
  EXPECT_EQ(bad({{"name", "a"},
                 {"route", "claim"},
                 {"qps", 5},
                 {"scope", "global"},
                 {"behavior", "queue"}}),
            "test: rules[0]: a global rule is a qps rule that refuses (behavior: reject)");
  EXPECT_EQ(bad({{"name", "A b"}, {"route", "claim"}, {"qps", 5}}),
            "test: rules[0].name: use [a-z0-9_]{1,48}");
}

TEST(LimitRules, TheYamlSectionLoadsBackAsItIs) {
  LimitRule a = Qps("claims_per_packet", 200, Per::kPacket);
  a.behavior = Behavior::kQueue;
  a.queue_ms_max = 250;
  a.message = "Busy: \"try\" again";
  LimitRule b;
  b.name = "sends";
  b.route = "send";
  b.concurrency = 64;
  const LimitsConfig written{true, {a, b}};
  options::Registry registry;
  LimitsOptions loaded;
  Declare(registry, &loaded, kRoutes);
  ASSERT_TRUE(registry.LoadYaml(YAML::Load(ToYamlSection(written)), "limits.yaml").ok())
      << ToYamlSection(written);
  EXPECT_EQ(ToJson(loaded.config), ToJson(written));
  Status s = registry.LoadYaml(YAML::Load("limits:\n  rules:\n    - name: x\n      route: claim\n"),
                               "f.yaml");
  EXPECT_EQ(s.message(), "f.yaml:3: rules[0]: set exactly one of qps and concurrency");
}

TEST(GlobalLimits, InstancesShareOneBucketAndFailOpenWhenRedisDies) {
  rp::testing::TempDir dir;
  RedisProcess redis(dir.path());
  ASSERT_TRUE(redis.Start().ok());
  base::RedisOptions ro;
  ro.port = redis.port();
  ro.deadline_ms = 200;
  base::RedisPool pool(ro);
  ManualClock clock(1'000'000);
  base::BreakerOptions bo;
  bo.calls_min = 3;
  base::CircuitBreaker breaker(bo, &clock);
  RedisBuckets buckets(&pool, &breaker);
  LimitRule r = Qps("global_claims", 10);
  r.scope = Scope::kGlobal;
  Limiter one(kRoutes, &clock, &buckets), two(kRoutes, &clock, &buckets);
  one.Load({false, {r}});
  two.Load({false, {r}});
  EXPECT_TRUE(one.Blocks(kClaim));
  EXPECT_FALSE(one.Blocks(kSend));
  int ok = 0;
  for (int i = 0; i < 10; ++i) {
    ok += one.Admit(ClaimOf(1), true).kind == Decision::Kind::kAdmit;
    ok += two.Admit(ClaimOf(1), true).kind == Decision::Kind::kAdmit;
  }
  EXPECT_EQ(ok, 10);  // One bucket of 10 between the two instances.
  metrics::Hub hub;
  one.RegisterMetrics(hub);
  redis.Kill();
  clock.AdvanceMs(1000);
  EXPECT_EQ(Admitted(one, ClaimOf(1), 1), 1);
  int local = 0;
  for (int i = 0; i < 20; ++i) local += one.Admit(ClaimOf(1), true).kind == Decision::Kind::kAdmit;
  EXPECT_EQ(local, 9);  // The local bucket still limits, at the rule's rate.
  EXPECT_EQ(breaker.state(), base::BreakerState::kOpen);  // Later calls fail fast.
  EXPECT_NE(hub.Render().find(R"(rp_limit_global_fallbacks_total{rule="global_claims"} 21)"),
            std::string::npos)
      << hub.Render();
}

}  // namespace
}  // namespace rp::limits
