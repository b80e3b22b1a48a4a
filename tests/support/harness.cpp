#include <gtest/gtest.h>

#include "tests/support/harness.h"

#include <stdlib.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <filesystem>

#include "common/crypto.h"
#include "common/options.h"

namespace rp::testing {

std::string TokenFor(int64_t user_id) {
  return auth::MintToken(kAuthSecret, user_id, std::time(nullptr) + 3600);
}

ServerConfig TestConfig(const TempDir& dir) {
  ServerConfig c;
  c.server.port = 0;
  c.ledger.path = dir.File("ledger.db");
  c.server.auth_secret = kAuthSecret;
  c.server.payment_secret = kPaymentSecret;
  c.reward_secret = kRewardSecret;
  c.server.threads = 2;
  c.rng_seed = 42;
  c.scanner.interval_ms = 3600 * 1000;  // Tests drive expiry explicitly.
  c.server.shutdown_grace_ms = 2000;
  return c;
}

InProcessServer::InProcessServer(ServerConfig config, const Clock* clock) {
  options::Registry registry;
  Declare(registry, &config);
  Status s = registry.Validate();
  EXPECT_TRUE(s.ok()) << s.ToString();
  config.downstream.Resolve();
  auto started = App::Start(config, clock);
  EXPECT_TRUE(started.ok()) << started.status().ToString();
  if (!started.ok()) return;
  app = std::move(started.value());
  port = app->port();
}

ServerProcess::ServerProcess(const TempDir& dir, const std::vector<std::string>& extra_args) {
  std::vector<std::string> argv = {RP_SERVER_BIN, "serve", "--port",
                                   "0",           "--db",  dir.File("ledger.db")};
  argv.insert(argv.end(), extra_args.begin(), extra_args.end());
  auto child = ChildProcess::Spawn(argv,
                                   {std::string("RP_AUTH_SECRET=") + kAuthSecret,
                                    std::string("RP_PAYMENT_SECRET=") + kPaymentSecret,
                                    std::string("RP_REWARD_SECRET=") + kRewardSecret},
                                   dir.File("server.log"));
  EXPECT_TRUE(child.ok()) << child.status().ToString();
  if (!child.ok()) return;
  child_.emplace(std::move(child.value()));
  auto line = child_->ReadLine(15000);
  EXPECT_TRUE(line.ok()) << "rp-server did not start: " << line.status().ToString();
  if (!line.ok()) return;
  auto port = ParseListeningPort(*line);
  EXPECT_TRUE(port.ok()) << port.status().ToString();
  port_ = port.ok() ? *port : 0;
}

RedisProcess::RedisProcess(const TempDir& dir) : rp::RedisProcess(dir.File("redis")) {
  Status started = Start();
  EXPECT_TRUE(started.ok()) << started.ToString();
}

::testing::AssertionResult LedgerConserves(const std::string& db_path) {
  bool ok = false;
  auto report = CheckLedger(db_path, &ok);
  if (!report.ok()) return ::testing::AssertionFailure() << report.status().ToString();
  if (!ok) return ::testing::AssertionFailure() << *report;
  return ::testing::AssertionSuccess() << *report;
}

}  // namespace rp::testing
