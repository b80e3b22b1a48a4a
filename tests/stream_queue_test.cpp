// StreamQueue's delivery guarantees, driven step by step (relay passes and leases called
// directly, a ManualClock for the outbox's times) against a real redis-server: nothing between
// the ledger commit and the stream is lost — not a crash between publish and mark, not a
// FLUSHALL, not Redis being down — and duplicates are harmless.
#include <gtest/gtest.h>

#include <set>

#include "server/async/stream_queue.h"
#include "server/core/task_effects.h"
#include "server/ledger/engine.h"
#include "server/ledger/outbox.h"
#include "tests/support/harness.h"

namespace rp::testing {
namespace {

class StreamQueueTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(redis_.Start().ok());
    ledger::LedgerOptions lo;
    lo.path = dir_.File("ledger.db");
    auto engine = ledger::OpenEngine(lo);
    ASSERT_TRUE(engine.ok()) << engine.status().ToString();
    ledger_ = std::move(engine.value());
    auto opts = base::ParseRedisUrl(redis_.url());
    ASSERT_TRUE(opts.ok());
    pool_ = std::make_unique<base::RedisPool>(*opts);
    async::StreamQueueOptions o;
    o.relay.republish_after_ms = 1000;
    o.lane = ledger::TaskLane::kAll;  // The transport alone, with payment tasks (see Enqueue).
    queue_ = std::make_unique<async::StreamQueue>(ledger_.get(), pool_.get(), &clock_, o);
  }

  // Payment tasks: completing one touches only its outbox row, so the test needs no packets.
  void Enqueue(int n) {
    ASSERT_TRUE(ledger_
                    ->RunSync([&](ledger::Tx& tx) {
                      for (int i = 0; i < n; ++i) {
                        const std::string order = "PO" + std::to_string(next_++);
                        Status s = ledger::outbox::Enqueue(
                            tx, {ledger::TaskKind::kPayment, order, next_, 100, "{}"},
                            clock_.NowMs());
                        if (!s.ok()) return s;
                      }
                      return Status::Ok();
                    })
                    .ok());
  }
  int64_t Pending() {
    int64_t n = -1;
    EXPECT_TRUE(ledger_
                    ->Read([&](ledger::ReadTx& tx) {
                      auto b = ledger::outbox::Stuck(tx, 0);
                      if (b.ok()) n = b->pending;
                      return b.status();
                    })
                    .ok());
    return n;
  }
  // What a worker does with a task whose effect happened: the outcome in the ledger (core's
  // decision), then the task released to its queue.
  Status Complete(const async::Task& t) {
    Status s = ledger_->RunSync(
        [&](ledger::Tx& tx) { return core::CompleteTaskTx(tx, t, clock_.NowMs()); });
    if (s.ok()) queue_->Release(t);
    return s;
  }
  Status Retry(const async::Task& t, int64_t next_attempt_ms, const std::string& error) {
    Status s = ledger_->RunSync([&](ledger::Tx& tx) {
      return core::RetryTaskTx(tx, t, next_attempt_ms, error, 8, clock_.NowMs());
    });
    if (s.ok()) queue_->Release(t);
    return s;
  }
  std::vector<async::Task> LeaseAll(int64_t lease_ms = 60000) {
    auto tasks = queue_->Lease(1000, lease_ms, ledger::TaskLane::kAll);
    EXPECT_TRUE(tasks.ok());
    return tasks.ok() ? *tasks : std::vector<async::Task>{};
  }

  TempDir dir_;
  RedisProcess redis_{dir_};
  ManualClock clock_{1'000'000};
  std::unique_ptr<ledger::Engine> ledger_;
  std::unique_ptr<base::RedisPool> pool_;
  std::unique_ptr<async::StreamQueue> queue_;
  int64_t next_ = 1;
};

TEST_F(StreamQueueTest, TheStreamCarriesTheWalletLaneAndPaymentsAreLeasedFromTheOutbox) {
  async::StreamQueue lanes(ledger_.get(), pool_.get(), &clock_, {});  // Default: wallet lane.
  Enqueue(3);                                                         // Payment tasks.
  ASSERT_TRUE(lanes.RelayOnce().ok());
  EXPECT_EQ(*lanes.RelayOnce(), 0);  // Not the stream's lane: never published.
  auto wallet = lanes.Lease(100, 60000, ledger::TaskLane::kWallet);
  ASSERT_TRUE(wallet.ok());
  EXPECT_TRUE(wallet->empty());
  auto payments = lanes.Lease(100, 60000, ledger::TaskLane::kPayment);
  ASSERT_TRUE(payments.ok());
  EXPECT_EQ(payments->size(), 3u);
}

TEST_F(StreamQueueTest, RelayedTasksAreLeasedOnceAndCompletedTasksLeaveTheStream) {
  Enqueue(10);
  EXPECT_TRUE(LeaseAll().empty());  // Nothing is on the stream before the relay runs.
  ASSERT_EQ(*queue_->RelayOnce(), 10);
  EXPECT_EQ(*queue_->RelayOnce(), 0);  // Marked relayed: not published twice.
  std::vector<async::Task> tasks = LeaseAll();
  ASSERT_EQ(tasks.size(), 10u);
  EXPECT_TRUE(LeaseAll().empty());  // Leased: hidden from other consumers.
  std::set<std::string> orders;
  for (const async::Task& t : tasks) {
    EXPECT_FALSE(t.queue_ref.empty());
    orders.insert(t.order_no);
    ASSERT_TRUE(Complete(t).ok());
  }
  EXPECT_EQ(orders.size(), 10u);
  EXPECT_EQ(Pending(), 0);
  ASSERT_TRUE(queue_->RelayOnce().ok());  // Refreshes the backlog figure.
  EXPECT_EQ(queue_->Stats().backlog, 0);
  EXPECT_EQ(queue_->Stats().fallback_leases, 0);
}

TEST_F(StreamQueueTest, ATaskWhoseWorkerDiedIsReclaimedAfterItsLease) {
  Enqueue(3);
  ASSERT_EQ(*queue_->RelayOnce(), 3);
  ASSERT_EQ(LeaseAll().size(), 3u);  // The worker holding these "dies": no Complete.
  EXPECT_TRUE(LeaseAll(60000).empty());
  std::vector<async::Task> again = LeaseAll(/*lease_ms=*/0);  // Idle ≥ 0 ms: re-claimed.
  ASSERT_EQ(again.size(), 3u);
  for (const async::Task& t : again) ASSERT_TRUE(Complete(t).ok());
  EXPECT_EQ(Pending(), 0);
}

TEST_F(StreamQueueTest, ACrashBetweenPublishAndMarkOnlyDuplicatesAndDuplicatesAreHarmless) {
  Enqueue(5);
  ASSERT_EQ(*queue_->RelayOnce(), 5);
  // The relay published, then "crashed" before its mark committed.
  ASSERT_TRUE(
      ledger_->RunSync([](ledger::Tx& tx) { return ledger::outbox::ForgetRelayed(tx); }).ok());
  ASSERT_EQ(*queue_->RelayOnce(), 5);
  std::vector<async::Task> tasks = LeaseAll();
  ASSERT_EQ(tasks.size(), 10u);  // Each task twice.
  for (const async::Task& t : tasks) ASSERT_TRUE(Complete(t).ok());
  EXPECT_EQ(Pending(), 0);
}

TEST_F(StreamQueueTest, AFlushedStreamIsRepublishedFromTheOutbox) {
  Enqueue(4);
  ASSERT_EQ(*queue_->RelayOnce(), 4);
  ASSERT_TRUE(pool_->Command({"FLUSHALL"}).ok());
  EXPECT_TRUE(LeaseAll().empty());     // The group is recreated; the entries are gone.
  EXPECT_EQ(*queue_->RelayOnce(), 0);  // Relayed recently: not yet suspected lost.
  clock_.AdvanceMs(1000);              // republish_after_ms
  ASSERT_EQ(*queue_->RelayOnce(), 4);
  std::vector<async::Task> tasks = LeaseAll();
  ASSERT_EQ(tasks.size(), 4u);
  for (const async::Task& t : tasks) ASSERT_TRUE(Complete(t).ok());
  EXPECT_EQ(Pending(), 0);
}

TEST_F(StreamQueueTest, RetriesWaitInTheOutboxUntilDue) {
  Enqueue(1);
  ASSERT_EQ(*queue_->RelayOnce(), 1);
  std::vector<async::Task> tasks = LeaseAll();
  ASSERT_EQ(tasks.size(), 1u);
  ASSERT_TRUE(Retry(tasks[0], clock_.NowMs() + 500, "wallet down").ok());
  EXPECT_EQ(*queue_->RelayOnce(), 0);  // Backing off.
  EXPECT_TRUE(LeaseAll().empty());     // The retried entry was acked away.
  clock_.AdvanceMs(500);
  ASSERT_EQ(*queue_->RelayOnce(), 1);
  tasks = LeaseAll();
  ASSERT_EQ(tasks.size(), 1u);
  EXPECT_EQ(tasks[0].attempts, 2);  // The retry counted.
  ASSERT_TRUE(Complete(tasks[0]).ok());
  EXPECT_EQ(Pending(), 0);
}

TEST_F(StreamQueueTest, WithRedisDownTasksAreLeasedFromTheOutbox) {
  Enqueue(6);
  redis_.Kill();
  EXPECT_EQ(*queue_->RelayOnce(), 0);  // Nothing can be published.
  std::vector<async::Task> tasks = LeaseAll();
  ASSERT_EQ(tasks.size(), 6u);  // Served by the fallback.
  EXPECT_GE(queue_->Stats().fallback_leases, 1);
  for (const async::Task& t : tasks) {
    EXPECT_TRUE(t.queue_ref.empty());
    ASSERT_TRUE(Complete(t).ok());
  }
  EXPECT_EQ(Pending(), 0);
}

}  // namespace
}  // namespace rp::testing
