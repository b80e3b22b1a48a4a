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

namespace rp::testing {

TempDir::TempDir() {
  const char* base = std::getenv("TMPDIR");
  std::string tmpl = std::string(base ? base : "/tmp") + "/rp-test-XXXXXX";
  char* made = mkdtemp(tmpl.data());
  if (made == nullptr) std::abort();
  path_ = made;
}

TempDir::~TempDir() {
  std::error_code ignored;
  std::filesystem::remove_all(path_, ignored);
}

std::string TokenFor(int64_t user_id) {
  return auth::MintToken(kAuthSecret, user_id, std::time(nullptr) + 3600);
}

Client::Client(int port) : http_("127.0.0.1", port) {
  http_.set_keep_alive(true);
  http_.set_tcp_nodelay(true);
  http_.set_read_timeout(30, 0);
}

Reply Client::Wrap(const httplib::Result& r) {
  Reply reply;
  if (!r) return reply;
  reply.status = r->status;
  reply.raw = r->body;
  reply.body = nlohmann::json::parse(r->body, nullptr, false);
  return reply;
}

Reply Client::Get(const std::string& path, int64_t user_id) {
  return Wrap(http_.Get(path, {{"Authorization", "Bearer " + TokenFor(user_id)}}));
}

Reply Client::Post(const std::string& path, const std::string& body, int64_t user_id) {
  return Wrap(http_.Post(path, {{"Authorization", "Bearer " + TokenFor(user_id)}}, body,
                         "application/json"));
}

Reply Client::Send(const std::string& method, const std::string& path, const std::string& body,
                   const httplib::Headers& headers) {
  httplib::Request req;
  req.method = method;
  req.path = path;
  req.headers = headers;
  req.body = body;
  if (!body.empty() && !req.has_header("Content-Type")) {
    req.set_header("Content-Type", "application/json");
  }
  return Wrap(http_.send(req));
}

Reply Client::Pay(const std::string& pay_order_no, const std::string& status,
                  int64_t amount_cents) {
  std::string body = nlohmann::json{
      {"pay_order_no", pay_order_no},
      {"status", status},
      {"amount_cents",
       amount_cents}}.dump();
  return Wrap(http_.Post("/v1/payments/callback",
                         {{"X-RP-Signature", crypto::HmacSha256Hex(kPaymentSecret, body)}}, body,
                         "application/json"));
}

Reply Client::SendPacket(int64_t sender, const std::string& order_no, int64_t total_cents,
                         int64_t count, const std::string& split) {
  nlohmann::json body = {{"order_no", order_no}, {"kind", "c2c"},  {"total_cents", total_cents},
                         {"count", count},       {"split", split}, {"audience", "public"},
                         {"video_id", "v1"}};
  return Post("/v1/packets", body.dump(), sender);
}

Reply Client::Claim(int64_t packet_id, int64_t user_id) {
  return Post("/v1/packets/" + std::to_string(packet_id) + "/claims", "", user_id);
}

base::ServerConfig TestConfig(const TempDir& dir) {
  base::ServerConfig c;
  c.port = 0;
  c.db_path = dir.File("ledger.db");
  c.auth_secret = kAuthSecret;
  c.payment_secret = kPaymentSecret;
  c.reward_secret = kRewardSecret;
  c.threads = 2;
  c.rng_seed = 42;
  c.scanner_interval_ms = 3600 * 1000;  // Tests drive expiry explicitly.
  c.shutdown_grace_ms = 2000;
  return c;
}

InProcessServer::InProcessServer(base::ServerConfig config, const Clock* clock) {
  Status s = base::FinishConfig(&config);
  EXPECT_TRUE(s.ok()) << s.ToString();
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
