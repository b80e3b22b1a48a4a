// rp-server's configuration as every subcommand loads it (this test links rp_app, where the
// modules' declarations are composed, and no HTTP): one declaration per key drives the YAML
// loader, the flags, the errors and the documentation table, which must match docs/api.md.
#include <gtest/gtest.h>
#include <stdlib.h>

#include <fstream>
#include <sstream>

#include "common/options.h"
#include "server/app/config.h"
#include "tests/util/docs_table.h"
#include "tests/util/temp_dir.h"

namespace rp {
namespace {

using testing::TempDir;

// A YAML sequence (each item on its own line after `indent`) whose aliases expand to 10^9
// scalars from a few hundred bytes: &a0 is ten scalars, each next anchor ten of the previous.
std::string BillionLaughs(const std::string& indent) {
  std::string yaml = indent + "- &a0 [x, x, x, x, x, x, x, x, x, x]\n";
  for (int i = 1; i < 9; ++i) {
    yaml += indent + "- &a" + std::to_string(i) + " [";
    for (int j = 0; j < 10; ++j) yaml += (j ? ", *a" : "*a") + std::to_string(i - 1);
    yaml += "]\n";
  }
  return yaml;
}

class ConfigTest : public ::testing::Test {
 protected:
  void SetUp() override {
    Declare(registry_, &config_);
    ::unsetenv("RP_AUTH_SECRET");
    ::unsetenv("RP_PAYMENT_SECRET");
    ::unsetenv("RP_REWARD_SECRET");
  }
  // Writes a config file and loads it with the given flags (key, value pairs).
  Status Load(const std::string& yaml, options::GivenFlags flags = {}) {
    const std::string path = dir_.File("config.yaml");
    std::ofstream(path) << yaml;
    ConfigSources sources{path, std::move(flags)};
    return LoadServerConfig(sources, registry_, &config_);
  }
  static constexpr const char* kSecrets =
      "secrets:\n  auth: 0123456789abcdef01\n  payment: 0123456789abcdef01\n";

  TempDir dir_;
  ServerConfig config_;
  options::Registry registry_;
};

TEST_F(ConfigTest, DefaultsComeFromTheDeclarations) {
  ASSERT_TRUE(Load(kSecrets).ok());
  EXPECT_EQ(config_.claim.scheme, "db_lock");
  EXPECT_EQ(config_.ledger.synchronous, "FULL");
  EXPECT_EQ(config_.packet.ttl_s, 86400);
  EXPECT_EQ(registry_.Find("packet.ttl_s")->default_text(), "86400");
}

TEST_F(ConfigTest, ProblemsNameTheFileLineAndKey) {
  struct Case {
    std::string yaml;
    std::string expect;  // A part of the message.
  };
  const Case cases[] = {
      {"ledger:\n  pth: x.db\n", "config.yaml:2: unknown key 'ledger.pth'"},
      {"ledgr:\n  path: x.db\n", "config.yaml:1: unknown section 'ledgr'"},
      {"ledger:\n  read_connections: lots\n", "config.yaml:2: ledger.read_connections must be"},
      {"ledger:\n  read_connections: 65\n", "ledger.read_connections must be 1..64 (got 65)"},
      {"ledger:\n  synchronous: OFF\n", "ledger.synchronous must be one of FULL | NORMAL"},
      {"packet:\n  ttl_s: .nan\n", "packet.ttl_s must be a whole number"},
      {"packet:\n  ttl_s: .inf\n", "packet.ttl_s must be a whole number"},
      {"packet:\n  ttl_s: 1.5\n", "packet.ttl_s must be a whole number"},
      {"server:\n  port: [1, 2]\n", "server.port: expected a value"},
      {"ledger: 3\n", "ledger: expected a mapping"},
      {"[1, 2]\n", "expected a mapping of sections"},
      {"ledger:\n  path: [unclosed\n", "config.yaml"},
      // A billion laughs under a structured key: refused, not expanded into memory.
      {"limits:\n  rules:\n" + BillionLaughs("    "), "values once its aliases are expanded"},
  };
  for (const Case& c : cases) {
    ServerConfig fresh;
    options::Registry r;
    Declare(r, &fresh);
    const std::string path = dir_.File("config.yaml");
    std::ofstream(path) << c.yaml;
    Status s = LoadServerConfig({path, {}}, r, &fresh);
    EXPECT_TRUE(s.Is(Error::kBadConfig)) << c.yaml;
    EXPECT_NE(s.message().find(c.expect), std::string::npos) << s.message();
  }
}

TEST_F(ConfigTest, FlagsOverrideTheFileWhateverTheirOrder) {
  options::GivenFlags flags;
  flags.values = {{"server.port", "9100"}, {"claim.scheme", "batched"}};
  flags.switches = {"async.in_process"};
  ASSERT_TRUE(Load(std::string(kSecrets) + "server:\n  port: 9000\n", flags).ok());
  EXPECT_EQ(config_.server.port, 9100);
  EXPECT_EQ(config_.claim.scheme, "batched");
  EXPECT_FALSE(config_.async.in_process);  // --no-workers
}

TEST_F(ConfigTest, AFlagOutOfRangeNamesTheFlag) {
  options::GivenFlags flags;
  flags.values = {{"server.port", "70000"}};
  Status s = Load(kSecrets, flags);
  EXPECT_TRUE(s.Is(Error::kBadConfig));
  EXPECT_NE(s.message().find("--port"), std::string::npos) << s.message();
}

TEST_F(ConfigTest, SecretsComeFromTheEnvironmentUnlessTheFileSetsThem) {
  ::setenv("RP_AUTH_SECRET", "from-the-environment-0", 1);
  ::setenv("RP_PAYMENT_SECRET", "from-the-environment-1", 1);
  ASSERT_TRUE(Load("secrets:\n  auth: from-the-file-000000\n").ok());
  EXPECT_EQ(config_.server.auth_secret, "from-the-file-000000");
  EXPECT_EQ(config_.server.payment_secret, "from-the-environment-1");
  EXPECT_EQ(registry_.Find("secrets.auth")->value_text(), "(secret)");  // Never printed.
}

TEST_F(ConfigTest, RulesAcrossKeysAreChecked) {
  // Each case on a config of its own.
  auto load = [this](const std::string& yaml) {
    ServerConfig fresh;
    options::Registry r;
    Declare(r, &fresh);
    const std::string path = dir_.File("rules.yaml");
    std::ofstream(path) << yaml;
    return LoadServerConfig({path, {}}, r, &fresh);
  };
  Status no_secret = load("");
  EXPECT_NE(no_secret.message().find("auth secret"), std::string::npos) << no_secret.message();
  Status redis = load(std::string(kSecrets) + "claim:\n  scheme: mem_lock\n");
  EXPECT_NE(redis.message().find("need redis.url"), std::string::npos) << redis.message();
  Status reward = load(std::string(kSecrets) + "mocks:\n  url: http://127.0.0.1:1\n");
  EXPECT_NE(reward.message().find("reward service needs its secret"), std::string::npos)
      << reward.message();
  const std::string global_rule =
      "limits:\n  rules:\n    - {name: g, route: claim, qps: 10, scope: global}\n";
  Status global = load(std::string(kSecrets) + global_rule);
  EXPECT_NE(global.message().find("scope: global keeps its bucket in Redis"), std::string::npos)
      << global.message();
  EXPECT_TRUE(
      load(std::string(kSecrets) + global_rule + "redis:\n  url: tcp://127.0.0.1:1\n").ok());
}

TEST_F(ConfigTest, MocksUrlFillsEveryServiceLeftEmpty) {
  ::setenv("RP_REWARD_SECRET", "reward-secret-0123456", 1);
  ASSERT_TRUE(
      Load(std::string(kSecrets) + "mocks:\n  url: http://m:1\nwallet:\n  url: http://w:2\n").ok());
  EXPECT_EQ(config_.downstream.payment_url, "http://m:1");
  EXPECT_EQ(config_.downstream.wallet_url, "http://w:2");
  EXPECT_EQ(config_.downstream.social_url, "http://m:1");
}

TEST(ConfigDeathTest, AKeyDeclaredTwiceIsAProgrammingError) {
  int a = 0, b = 0;
  options::Registry r;
  r.Int("x.y", &a);
  EXPECT_DEATH(r.Int("x.y", &b), "invariant violated");
}

// The table in docs/api.md is the one rp-server prints (`rp-server config`): regenerate it from
// the declarations whenever a key changes.
TEST(ConfigDocsTest, TheDocsTableIsTheDeclaredOne) {
  ServerConfig config;
  options::Registry r;
  Declare(r, &config);
  EXPECT_EQ(testing::DocsTableMismatch(std::string(RP_SOURCE_DIR) + "/docs/api.md", "rp-server",
                                       r.MarkdownTable()),
            "");
}

}  // namespace
}  // namespace rp
