// rp-sim's scenario files, read with no running system: the strict loader (ranges, file:line
// errors, hostile input, faults checked when the file is read) and the check parser.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "simulator/run/run.h"
#include "simulator/scenario/scenario.h"
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
      {"system: {server_threads: 2}\n", "go under system.server, in rp-server's keys"},
      {"system: {server: {packet: 10}}\n", "system.server.packet must be a mapping"},
      {"system: {claim_scheme: mem_lock}\n", "system.redis must be true"},
      {"seed: -3\n", "seed must be"},
      {"checks: [\"p99(claim) < 50\"]\n", "needs a latency unit: us, ms or s"},
      {"checks: [\"median(claim) < 5ms\"]\n", "is not a known statistic"},
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

// The name becomes results/<name>-<time>-<scheme>: a name that is not one plain path component
// would write outside results/ (or into a hidden folder). Refused when the file is read.
TEST_F(ScenarioFileTest, ANameThatIsNotOnePlainPathComponentIsRefused) {
  const std::string tail = std::string(kMinimal).substr(std::string(kMinimal).find('\n'));
  for (const std::string& bad : std::vector<std::string>{
           "'../escape'", "'a/../../b'", "/etc/x", "'..'", "'.'", "'.hidden'", "'a b'", "'a\\\\b'",
           "'x\\ty'", "'" + std::string(101, 'n') + "'"}) {
    auto s = LoadScenario(Write("name: " + bad + tail));
    ASSERT_FALSE(s.ok()) << bad;
    EXPECT_NE(s.status().message().find("s.yaml:1: name "), std::string::npos)
        << bad << " -> " << s.status().message();
  }
  for (const char* fine : {"hot_packet", "c2c_flow-seed-2007", "v1.2", "A-b_c"}) {
    auto s = LoadScenario(Write("name: " + std::string(fine) + tail));
    ASSERT_TRUE(s.ok()) << fine << ": " << s.status().ToString();
    EXPECT_EQ(s->name, fine);
  }
}

// A byte that is not UTF-8 in any string of the file (description, a phase name, a key, a
// check) is an error naming the field and its line, before anything runs.
TEST_F(ScenarioFileTest, TextThatIsNotUtf8IsRefusedNamingTheField) {
  struct Case {
    std::string text, field;
  };
  const std::string load = "load:\n  phases:\n    - {name: p, duration_s: 5, rate: 10}\n";
  const std::string flows = "flows:\n  hot: {weight: 1}\n";
  const std::vector<Case> cases = {
      {"name: t\ndescription: \"caf\xe9\"\n" + load + flows, "s.yaml:2: description"},
      {"name: t\ndescription: \"\xc0\xaf\"\n" + load + flows, "s.yaml:2: description"},
      {"name: t\ndescription: \"\xed\xa0\x80 surrogate\"\n" + load + flows,
       "s.yaml:2: description"},
      {"name: t\nload:\n  phases:\n    - {name: \"p\xff\", duration_s: 5, rate: 10}\n" + flows,
       "s.yaml:4: load.phases[0].name"},
      {"name: t\n" + load + flows + "checks: [\"p99(claim) < 5ms \xfe\"]\n", "s.yaml:7: checks[0]"},
      {"name: t\n" + load + flows + "\"k\xff\": 1\n", "s.yaml:7: a key in the scenario"},
  };
  for (const Case& c : cases) {
    auto s = LoadScenario(Write(c.text));
    ASSERT_FALSE(s.ok()) << c.field;
    EXPECT_NE(s.status().message().find(c.field), std::string::npos)
        << c.field << " -> " << s.status().message();
    EXPECT_NE(s.status().message().find("not valid UTF-8"), std::string::npos)
        << s.status().message();
  }
  auto chinese = LoadScenario(Write("name: t\ndescription: 春节红包雨 ✓\n" + load + flows));
  ASSERT_TRUE(chinese.ok()) << chinese.status().ToString();
  EXPECT_EQ(chinese->description, "春节红包雨 ✓");
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
  // Overload: what admitted users saw, the share refused, the recovery, the server's figures.
  for (const char* ok :
       {"admitted_p99(claim) < 200ms", "refused_rate(claim) > 1%", "degraded(claim) == 0",
        "recovery_s(claim) <= 3s", "server.breakers_open_max > 0", "server.limit_refusals > 0"}) {
    EXPECT_TRUE(ParseCheck(ok).ok()) << ok;
  }
  EXPECT_FALSE(ParseCheck("refused_rate(claim) > 1ms").ok());
  EXPECT_FALSE(ParseCheck("recovery_s(claim) < 3ms").ok());
  auto unknown = ParseCheck("server.breakers_opne > 0");
  ASSERT_FALSE(unknown.ok());
  EXPECT_NE(unknown.status().message().find("server.breakers_open_max"), std::string::npos);
}

TEST_F(ScenarioFileTest, ChecksNameOperationsTheJourneysMake) {
  auto with_check = [&](const std::string& check) {
    auto s = LoadScenario(Write(std::string(kMinimal) + "checks:\n  - \"" + check + "\"\n"));
    return s.ok() ? std::string("ok") : s.status().message();
  };
  EXPECT_EQ(with_check("p99(claim) < 10ms"), "ok");  // The hot flow claims.
  const std::string typo = with_check("p99(clam) < 10ms");
  EXPECT_NE(typo.find(":8: check 'p99(clam) < 10ms' names no operation the journeys make ("),
            std::string::npos)
      << typo;
  const std::string unused = with_check("error_rate(grab) < 1%");
  EXPECT_NE(unused.find("no flow with a weight above 0 makes grab requests"), std::string::npos)
      << unused;
}

TEST_F(ScenarioFileTest, SwitchesRpMockWouldRefuseAreRefusedWhenTheFileIsRead) {
  std::string rate = kMinimal;
  rate += "system:\n  mock_switches:\n    - {service: wallet, error_rate: 3}\n";
  auto bad = LoadScenario(Write(rate));
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find(":9: rp-mock would refuse this switch: error_rate must be "
                                        "within 0..1"),
            std::string::npos)
      << bad.status().message();
  std::string endpoint = kMinimal;
  endpoint +=
      "faults:\n  - {at_s: 1, action: mock_switch, switch: {service: wallet, endpoint: "
      "transfer, down: true}}\n";
  auto typo = LoadScenario(Write(endpoint));
  ASSERT_FALSE(typo.ok());
  EXPECT_NE(typo.status().message().find("unknown endpoint transfer of wallet"), std::string::npos)
      << typo.status().message();
}

TEST_F(ScenarioFileTest, ServerConfigPassesThroughButNotWhatRpSimSets) {
  std::string ok = kMinimal;
  ok +=
      "system:\n  server:\n    limits:\n      rules:\n"
      "        - {name: c, route: claim, qps: 10}\n"
      "    ledger: {pool_size: 4}\n    packet: {ttl_s: 7}\n    async: {queue: redis_streams}\n"
      "  redis: true\n";
  auto s = LoadScenario(Write(ok));
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  EXPECT_EQ(s->system.server_config["limits"]["rules"][0]["qps"], 10);
  ASSERT_NE(ServerConfigKey(s->system, "packet.ttl_s"), nullptr);
  EXPECT_EQ(*ServerConfigKey(s->system, "packet.ttl_s"), 7);
  EXPECT_EQ(ServerConfigKey(s->system, "packet.count_max"), nullptr);
  EXPECT_TRUE(SystemNeedsRedis(s->system));  // async.queue: redis_streams, under db_lock.
  // Every key rp-sim sets itself is refused with what sets it instead.
  for (const OwnedServerKey& owned : RpSimOwnedServerKeys()) {
    std::string key = owned.key;
    const std::string section = key.substr(0, key.find('.'));
    std::string name = key.substr(key.find('.') + 1);
    if (name == "*") name = "auth";
    auto bad = LoadScenario(Write(std::string(kMinimal) + "system:\n  server:\n    " + section +
                                  ": {" + name + ": x}\n"));
    ASSERT_FALSE(bad.ok()) << key;
    EXPECT_NE(bad.status().message().find(":9: system.server." + section + "." + name +
                                          " is set by rp-sim (" + owned.set_by + ")"),
              std::string::npos)
        << bad.status().message();
  }
  auto queue = LoadScenario(
      Write(std::string(kMinimal) + "system:\n  server:\n    async: {queue: redis_streams}\n"));
  ASSERT_FALSE(queue.ok());
  EXPECT_NE(queue.status().message().find("system.redis must be true"), std::string::npos)
      << queue.status().message();
}

// Hostile files: NaN and infinities are out of every range, and aliases that would expand a
// small file into a billion values are refused instead of exhausting memory.
TEST_F(ScenarioFileTest, NaNInfinitiesAndBillionLaughsAreRefused) {
  const std::string head = "name: h\nflows:\n  c2c: {weight: 1}\n";
  for (const std::string& load : {std::string("load:\n  dropped_percent_max: .nan\n"),
                                  std::string("load:\n  arrival_lag_p99_ms_max: .inf\n")}) {
    auto s =
        LoadScenario(Write(head + load + "  phases:\n    - {name: p, duration_s: 1, rate: 1}\n"));
    ASSERT_FALSE(s.ok()) << load;
    EXPECT_NE(s.status().message().find("must be in"), std::string::npos) << s.status().message();
  }
  std::string laughs = head + "load:\n  phases:\n    - {name: p, duration_s: 1, rate: 1}\n" +
                       "system:\n  server:\n    limits:\n      rules:\n"
                       "        - &a0 [x, x, x, x, x, x, x, x, x, x]\n";
  for (int i = 1; i < 9; ++i) {
    laughs += "        - &a" + std::to_string(i) + " [";
    for (int j = 0; j < 10; ++j) laughs += (j ? ", *a" : "*a") + std::to_string(i - 1);
    laughs += "]\n";
  }
  auto s = LoadScenario(Write(laughs));
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.status().message().find("values once its aliases are expanded"), std::string::npos)
      << s.status().message();
}

TEST_F(ScenarioFileTest, NewFaultsAreCheckedWhenTheFileIsRead) {
  const std::string head = R"(name: f
system: {claim_scheme: db_lock}
load:
  phases:
    - {name: p, duration_s: 10, rate: 5}
flows:
  c2c: {weight: 1}
)";
  auto refused = [&](const std::string& faults, const std::string& says) {
    auto s = LoadScenario(Write(head + faults));
    ASSERT_FALSE(s.ok()) << faults;
    EXPECT_NE(s.status().message().find(says), std::string::npos) << s.status().message();
  };
  refused("faults:\n  - {at_s: 1, action: server_pause}\n", "needs a server_resume");
  refused("faults:\n  - {at_s: 1, action: server_resume}\n", "alternate");
  refused("faults:\n  - {at_s: 1, action: server_kill, claim_scheme: batched}\n",
          "belongs to server_restart");
  refused("faults:\n  - {at_s: 1, action: server_restart, claim_scheme: presplit}\n",
          "needs system.redis: true");
  refused("faults:\n  - {at_s: 1, action: server_restart, claim_scheme: fast}\n", "fast");
  refused("faults:\n  - {at_s: 1, action: redis_flush}\n", "needs system.redis: true");
  // An action outside the table is refused here, naming what is allowed: it never reaches the
  // system (whose Apply has a case per action and no default, so it could not fall into one).
  refused("faults:\n  - {at_s: 1, action: mock_rest}\n",
          ":9: faults[].action is 'mock_rest', expected redis_stop | redis_start");
  refused("faults:\n  - {at_s: 1, action: mock_reset, instance: 1}\n",
          "'instance' belongs to instance_kill and instance_restart only");
  auto ok =
      LoadScenario(Write(head + "faults:\n  - {at_s: 1, action: server_pause}\n"
                                "  - {at_s: 2, action: server_resume}\n"
                                "  - {at_s: 3, action: server_restart, claim_scheme: batched}\n"));
  ASSERT_TRUE(ok.ok()) << ok.status().ToString();
  EXPECT_EQ(ok->faults[2].claim_scheme, "batched");
}

}  // namespace
}  // namespace rp::sim
