// The async service against a scripted in-test wallet: transfers and refunds are executed
// exactly once however often the wallet fails, times out or is down, and the ledger's state
// machines finish. Every case runs on both task queues: the embedded outbox and a Redis stream
// fed by the outbox relay (a real redis-server). (tests/mock_e2e_test.cpp repeats the key cases
// against the real rp-mock.)
#include <gtest/gtest.h>
#include <httplib.h>

#include <atomic>
#include <map>
#include <mutex>
#include <random>
#include <thread>

#include "tests/support/fake_wallet.h"
#include "tests/support/harness.h"

namespace rp::testing {
namespace {

using nlohmann::json;

class AsyncTest : public ::testing::TestWithParam<std::string> {
 protected:
  void Start(int64_t ttl_s = 86400) {
    ServerConfig c = TestConfig(dir_);
    if (GetParam() == "redis_streams") {
      redis_ = std::make_unique<RedisProcess>(dir_);
      ASSERT_TRUE(redis_->Start().ok());
      c.redis.url = redis_->url();
      c.async.queue = "redis_streams";
      c.async.relay_interval_ms = 2;
    }
    c.scanner.interval_ms = 20;
    c.downstream.wallet_url = wallet_.url();
    c.downstream.payment_url = wallet_.url();
    c.packet.ttl_s = ttl_s;
    c.recon.interval_ms = 0;
    c.async.idle_poll_ms = 5;
    c.async.retry_base_ms = 1;
    c.async.retry_max_ms = 20;
    c.async.failed_after_attempts = 3;
    c.async.payment_poll_ms = 10;
    c.downstream.call_deadline_ms = 1000;
    server_ = std::make_unique<InProcessServer>(c);
    ASSERT_TRUE(server_->app);
    client_ = std::make_unique<Client>(server_->port);
  }
  void TearDown() override {
    if (server_ && server_->app) server_->app->Stop();
    EXPECT_TRUE(LedgerConserves(dir_.File("ledger.db")));
  }
  // Polls the packet's public state until pred holds; bounded.
  bool WaitFor(const std::function<bool()>& pred) {
    for (int i = 0; i < 2000; ++i) {
      if (pred()) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(5));  // Waiting on background workers.
    }
    return false;
  }
  int64_t ActivePacket(const std::string& order, int64_t total, int64_t count) {
    Reply sent = client_->SendPacket(1, order, total, count);
    EXPECT_EQ(sent.status, 201);
    EXPECT_EQ(client_->Pay(sent.body["pay_order_no"], "paid", total).status, 200);
    return sent.body["packet_id"];
  }
  std::string ClaimStatus(int64_t packet, int64_t user) {
    return client_->Claim(packet, user).body.value("status", "");
  }

  FakeWallet wallet_;
  TempDir dir_;
  std::unique_ptr<RedisProcess> redis_;
  std::unique_ptr<InProcessServer> server_;
  std::unique_ptr<Client> client_;
};

TEST_P(AsyncTest, FlakyWalletStillTransfersEveryClaimExactlyOnce) {
  wallet_.SetFailRate(0.3);
  Start();
  const int64_t packet = ActivePacket("flaky", 10000, 100);
  std::map<std::string, int64_t> expected;
  for (int u = 1; u <= 100; ++u) {
    Reply r = client_->Claim(packet, 100 + u);
    ASSERT_EQ(r.status, 201);
    expected["TR" + std::to_string(r.body["claim_id"].get<int64_t>())] = r.body["amount_cents"];
  }
  ASSERT_TRUE(WaitFor([&] { return wallet_.Applied().size() >= expected.size(); }));
  ASSERT_TRUE(WaitFor([&] {
    for (int u = 1; u <= 100; ++u) {
      if (ClaimStatus(packet, 100 + u) != "transferred") return false;
    }
    return true;
  }));
  EXPECT_EQ(wallet_.Applied(), expected);  // Each transfer once, with its amount.
  EXPECT_GT(wallet_.Calls(), 100);         // Failures really happened and were retried.
}

TEST_P(AsyncTest, TransfersWaitWhileTheWalletIsDownAndFinishAfter) {
  wallet_.SetDown(true);
  Start();
  const int64_t packet = ActivePacket("down", 1000, 10);
  for (int u = 1; u <= 10; ++u) ASSERT_EQ(client_->Claim(packet, u).status, 201);
  // Past failed_after_attempts the claims are marked transfer_failed, never dropped.
  ASSERT_TRUE(WaitFor([&] { return ClaimStatus(packet, 1) == "transfer_failed"; }));
  EXPECT_TRUE(wallet_.Applied().empty());
  wallet_.SetDown(false);
  ASSERT_TRUE(WaitFor([&] {
    for (int u = 1; u <= 10; ++u) {
      if (ClaimStatus(packet, u) != "transferred") return false;
    }
    return true;
  }));
  EXPECT_EQ(wallet_.Applied().size(), 10u);
}

TEST_P(AsyncTest, ExpiredRemainderIsRefundedOnceAndThePacketEndsRefunded) {
  wallet_.SetFailRate(0.5);
  Start(/*ttl_s=*/1);
  const int64_t packet = ActivePacket("refund", 1000, 10);
  Reply won = client_->Claim(packet, 5);
  ASSERT_EQ(won.status, 201);
  // The TTL is one second of wall time; the scanner (every 20 ms here) expires the packet and
  // the workers pay the refund through the flaky wallet.
  ASSERT_TRUE(WaitFor([&] {
    return client_->Get("/v1/packets/" + std::to_string(packet), 1).body["status"] == "refunded";
  }));
  EXPECT_EQ(client_->Claim(packet, 6).status, 410);
  auto applied = wallet_.Applied();
  ASSERT_EQ(applied.count("RF" + std::to_string(packet)), 1u);
  EXPECT_EQ(applied["RF" + std::to_string(packet)], 1000 - won.body["amount_cents"].get<int64_t>());
}

TEST_P(AsyncTest, PaymentWithoutCallbackIsActivatedByPolling) {
  Start();
  Reply sent = client_->SendPacket(1, "lost-callback", 500, 5);
  ASSERT_EQ(sent.status, 201);
  // The payment service has the order paid, but no callback ever arrives.
  wallet_.MarkPaid(sent.body["pay_order_no"], 500);
  const std::string path = "/v1/packets/" + sent.body["packet_id"].dump();
  ASSERT_TRUE(WaitFor([&] { return client_->Get(path, 1).body["status"] == "active"; }));
  EXPECT_EQ(client_->Claim(sent.body["packet_id"], 9).status, 201);
}

INSTANTIATE_TEST_SUITE_P(Queues, AsyncTest, ::testing::Values("outbox", "redis_streams"),
                         [](const auto& param_info) { return param_info.param; });

}  // namespace
}  // namespace rp::testing
