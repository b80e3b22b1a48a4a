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

#include "server/async/async_service.h"
#include "server/async/outbox_queue.h"
#include "server/ledger/claims.h"
#include "server/ledger/outbox.h"
#include "tests/support/fake_wallet.h"
#include "tests/support/harness.h"
#include "tests/support/shifted_clock.h"

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
      c.async.relay.relay_interval_ms = 2;
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
    server_ = std::make_unique<InProcessServer>(c, &clock_);
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
  std::string ClaimStatus(int64_t packet, int64_t user) {
    return client_->Claim(packet, user).body.value("status", "");
  }

  ShiftedClock clock_;
  FakeWallet wallet_;
  TempDir dir_;
  std::unique_ptr<RedisProcess> redis_;
  std::unique_ptr<InProcessServer> server_;
  std::unique_ptr<Client> client_;
};

TEST_P(AsyncTest, FlakyWalletStillTransfersEveryClaimExactlyOnce) {
  wallet_.SetFailRate(0.3);
  Start();
  const int64_t packet = PaidPacket(*client_, "flaky", 10000, 100);
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
  const int64_t packet = PaidPacket(*client_, "down", 1000, 10);
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
  Start(/*ttl_s=*/60);
  const int64_t packet = PaidPacket(*client_, "refund", 1000, 10);
  Reply won = client_->Claim(packet, 5);
  ASSERT_EQ(won.status, 201);
  // The clock moves past the TTL; the scanner (every 20 ms here) expires the packet and the
  // workers pay the refund through the flaky wallet.
  clock_.JumpMs(61'000);
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

// A worker records a lease batch's outcomes in one transaction, each task in a savepoint: a task
// whose bookkeeping fails (here: a transfer whose claim does not exist) stays pending, and the
// tasks recorded beside it are done all the same.
TEST(AsyncBatch, ATaskWhoseBookkeepingFailsDoesNotHoldItsBatchBack) {
  TempDir dir;
  FakeWallet wallet;
  wallet.SetDown(true);
  std::vector<int64_t> claim_ids;
  {
    ServerConfig c = TestConfig(dir);
    c.downstream.wallet_url = wallet.url();
    c.downstream.payment_url = wallet.url();
    c.recon.interval_ms = 0;
    InProcessServer server(c);
    ASSERT_TRUE(server.app);
    Client client(server.port);
    Reply sent = client.SendPacket(1, "batch", 500, 5);
    ASSERT_EQ(sent.status, 201);
    ASSERT_EQ(client.Pay(sent.body["pay_order_no"], "paid", 500).status, 200);
    for (int u = 1; u <= 5; ++u) {
      Reply r = client.Claim(sent.body["packet_id"], u);
      ASSERT_EQ(r.status, 201);
      claim_ids.push_back(r.body["claim_id"]);
    }
    server.app->Stop();  // The wallet was down: all five transfers are still pending.
  }
  auto opened = ledger::OpenEngine(LedgerFor(dir.File("ledger.db")));
  ASSERT_TRUE(opened.ok()) << opened.status().ToString();
  ledger::Engine& engine = **opened;
  SystemClock clock;
  const int64_t missing_claim = 999'999;
  ASSERT_TRUE(engine
                  .RunSync([&](ledger::Tx& tx) {
                    return ledger::outbox::Enqueue(tx,
                                                   {ledger::TaskKind::kTransfer, "TR999999",
                                                    missing_claim, 1, R"({"user_id": 9})"},
                                                   0);
                  })
                  .ok());
  wallet.SetDown(false);
  async::OutboxQueue queue(&engine, &clock);
  async::AsyncOptions options;
  options.workers = 1;  // One worker, so the six tasks share its lease batches.
  options.idle_poll_ms = 5;
  async::AsyncService service(&queue, &engine, &clock, options,
                              {wallet.url(), wallet.url(), 1000, 1, nullptr});
  service.Start();
  auto transferred = [&] {
    int n = 0;
    Status s = engine.Read([&](ledger::ReadTx& tx) {
      for (int64_t id : claim_ids) {
        Result<ledger::ClaimRecord> c = ledger::claims::Load(tx, id);
        if (!c.ok()) return c.status();
        n += c->state == ledger::ClaimState::kTransferred;
      }
      return Status::Ok();
    });
    EXPECT_TRUE(s.ok()) << s.ToString();
    return n == static_cast<int>(claim_ids.size());
  };
  bool all = false;
  for (int i = 0; i < 2000 && !all; ++i) {
    all = transferred();
    if (!all) std::this_thread::sleep_for(std::chrono::milliseconds(5));  // Background worker.
  }
  service.Stop();
  EXPECT_TRUE(all);
  EXPECT_GE(service.Stats().completed[ledger::TaskKind::kTransfer], 6);  // The bad one too, tried.
  // The bad task's bookkeeping was rolled back: still pending, to be tried again. (Transfers
  // only: the packet's payment task has a lane and a pace of its own.)
  Status s = engine.Read([&](ledger::ReadTx& tx) {
    Result<ledger::outbox::Backlog> b = ledger::outbox::Stuck(tx, INT64_MAX);
    if (!b.ok()) return b.status();
    EXPECT_EQ(b->stuck[ledger::TaskKind::kTransfer], 1);
    return Status::Ok();
  });
  EXPECT_TRUE(s.ok()) << s.ToString();
  engine.Stop();
}

// A worker told to stop finishes the call in hand and hands the rest of its lease batch back:
// due again at once for the workers that remain, not after the lease (30 s here). Before, every
// graceful restart left its workers' untried tasks — transfers, refunds — waiting out the lease.
TEST(AsyncBatch, AStoppingWorkerHandsBackWhatItLeasedButDidNotTry) {
  TempDir dir;
  FakeWallet wallet;
  wallet.HoldRefunds();  // The first refund call waits: the worker is mid-batch when told to stop.
  auto opened = ledger::OpenEngine(LedgerFor(dir.File("ledger.db")));
  ASSERT_TRUE(opened.ok()) << opened.status().ToString();
  ledger::Engine& engine = **opened;
  SystemClock clock;
  for (int i = 1; i <= 5; ++i) {
    const ledger::NewTask task{ledger::TaskKind::kRefund, "RF90" + std::to_string(i), 900 + i, 100,
                               R"({"user_id": 9})"};
    ASSERT_TRUE(engine
                    .RunSync([&](ledger::Tx& tx) {
                      return ledger::outbox::Enqueue(tx, task, clock.NowMs());
                    })
                    .ok());
  }
  async::OutboxQueue queue(&engine, &clock);
  async::AsyncOptions options;
  options.workers = 1;  // One worker leases all five in one batch.
  options.lease_ms = 30000;
  async::AsyncService service(&queue, &engine, &clock, options,
                              {wallet.url(), wallet.url(), 2000, 1, nullptr});
  service.Start();
  ASSERT_TRUE(wallet.WaitForRefundCall(10000));
  service.RequestStop();    // While the first call is in hand...
  wallet.ReleaseRefunds();  // ...which then completes.
  service.Stop();
  // Four were never tried: due now, their attempt not counted.
  int due = 0;
  Status s = engine.Read([&](ledger::ReadTx& tx) {
    Result<std::vector<ledger::TaskRecord>> d =
        ledger::outbox::DueForRelay(tx, clock.NowMs(), 0, 10, ledger::TaskLane::kAll);
    if (!d.ok()) return d.status();
    for (const ledger::TaskRecord& t : *d) {
      due += t.attempts == 0 ? 1 : 0;
    }
    return Status::Ok();
  });
  EXPECT_TRUE(s.ok()) << s.ToString();
  EXPECT_EQ(due, 4);
  engine.Stop();
}

INSTANTIATE_TEST_SUITE_P(Queues, AsyncTest, ::testing::Values("outbox", "redis_streams"),
                         [](const auto& param_info) { return param_info.param; });

}  // namespace
}  // namespace rp::testing
