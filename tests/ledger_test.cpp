// The ledger module alone (this test links rp_ledger and nothing above it): the writer's
// "same lock key never shares a commit" rule, savepoints per job, the read pool's bound, the
// transition tables and the one state-move primitive, and opening files that are not ledgers.
#include <gtest/gtest.h>

#include <atomic>
#include <fstream>
#include <future>
#include <map>
#include <mutex>
#include <thread>
#include <vector>

#include "server/ledger/engine.h"
#include "server/ledger/outbox.h"
#include "server/ledger/packets.h"
#include "server/ledger/schema.h"
#include "server/ledger/state.h"
#include "tests/util/temp_dir.h"

namespace rp::ledger {
namespace {

using testing::TempDir;

class LedgerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    LedgerOptions o;
    o.path = dir_.File("ledger.db");
    o.read_connections = 1;
    o.read_wait_ms = 50;
    auto engine = OpenEngine(o);
    ASSERT_TRUE(engine.ok()) << engine.status().ToString();
    engine_ = std::move(engine.value());
  }

  // A packet in awaiting_payment, inserted as a send would.
  int64_t NewPacketRow(const std::string& order_no) {
    int64_t id = 0;
    Status s = engine_->RunSync([&](Tx& tx) {
      NewPacket p;
      p.sender_id = 1;
      p.order_no = order_no;
      p.request_hash = "h";
      p.total_cents = 100;
      p.count = 2;
      p.share_cap_cents = 100;
      p.video_id = "v";
      p.created_at_ms = 1000;
      p.expires_at_ms = 2000;
      Result<int64_t> r = packets::Insert(tx, p);
      if (!r.ok()) return r.status();
      id = *r;
      return RecordCreated(tx, id, PacketState::kAwaitingPayment, "test", 1000);
    });
    EXPECT_TRUE(s.ok()) << s.ToString();
    return id;
  }

  TempDir dir_;
  std::unique_ptr<Engine> engine_;
};

// The writer is held inside a first job while the others queue, so the batches that follow are
// exactly what the writer's rule makes of the queue. Each job notes the commits finished before
// it ran: jobs of one batch see the same number.
TEST_F(LedgerTest, JobsWithOneLockKeyNeverShareACommitOthersDo) {
  std::promise<void> release;
  std::shared_future<void> released = release.get_future().share();
  std::promise<void> holding;
  WriteJob hold;
  hold.fn = [&](Tx&) {
    holding.set_value();
    released.wait();
    return Status::Ok();
  };
  std::atomic<int> done{0};
  hold.done = [&](const Status&) { ++done; };
  ASSERT_TRUE(engine_->Submit(std::move(hold)).ok());
  holding.get_future().wait();
  std::mutex mu;
  std::map<std::string, std::vector<int64_t>> batch_of;  // "keyed" / "free" -> commits seen.
  auto submit = [&](std::optional<int64_t> key, const std::string& kind) {
    WriteJob job;
    job.lock_key = key;
    job.fn = [&, kind](Tx&) {
      std::lock_guard<std::mutex> lock(mu);
      batch_of[kind].push_back(engine_->Stats().commits);
      return Status::Ok();
    };
    job.done = [&](const Status& s) {
      EXPECT_TRUE(s.ok());
      ++done;
    };
    ASSERT_TRUE(engine_->Submit(std::move(job)).ok());
  };
  for (int i = 0; i < 5; ++i) submit(7, "keyed");
  for (int i = 0; i < 5; ++i) submit(std::nullopt, "free");
  release.set_value();
  while (done.load() < 11) std::this_thread::yield();
  std::vector<int64_t> keyed = batch_of["keyed"];
  ASSERT_EQ(keyed.size(), 5u);
  for (size_t i = 1; i < keyed.size(); ++i) EXPECT_GT(keyed[i], keyed[i - 1]) << "shared a commit";
  for (int64_t c : batch_of["free"]) EXPECT_EQ(c, batch_of["free"][0]);  // One commit for all.
  EXPECT_EQ(batch_of["free"][0], keyed[0]);  // ...the same as the first keyed job's.
  EXPECT_EQ(engine_->Stats().lock_waits, 5);
}

TEST_F(LedgerTest, AFailedJobIsRolledBackAloneItsBatchCommits) {
  const int64_t failing = NewPacketRow("failing");
  const int64_t kept = NewPacketRow("kept");
  std::promise<void> release;
  std::shared_future<void> released = release.get_future().share();
  std::promise<void> holding;
  WriteJob hold;
  hold.fn = [&](Tx&) {
    holding.set_value();
    released.wait();
    return Status::Ok();
  };
  hold.done = [](const Status&) {};
  ASSERT_TRUE(engine_->Submit(std::move(hold)).ok());
  holding.get_future().wait();
  // Both queue behind the held job, so they run in one batch: one writes, then fails.
  std::promise<Status> a, b;
  WriteJob fails;
  fails.fn = [&](Tx& tx) {
    Status m = Move(tx, failing, PacketState::kAwaitingPayment, PacketState::kActive, "t", 1);
    return m.ok() ? Status(Error::kSoldOut, "fails after writing") : m;
  };
  fails.done = [&](const Status& s) { a.set_value(s); };
  WriteJob works;
  works.fn = [&](Tx& tx) {
    return Move(tx, kept, PacketState::kAwaitingPayment, PacketState::kActive, "t", 1);
  };
  works.done = [&](const Status& s) { b.set_value(s); };
  ASSERT_TRUE(engine_->Submit(std::move(fails)).ok());
  ASSERT_TRUE(engine_->Submit(std::move(works)).ok());
  const int64_t commits_before = engine_->Stats().commits;
  release.set_value();
  EXPECT_TRUE(a.get_future().get().Is(Error::kSoldOut));
  EXPECT_TRUE(b.get_future().get().ok());
  EXPECT_EQ(engine_->Stats().commits, commits_before + 2);  // The held batch, then the pair.
  Status read = engine_->Read([&](ReadTx& tx) {
    EXPECT_EQ(packets::Load(tx, failing)->state, PacketState::kAwaitingPayment);
    EXPECT_EQ(packets::Load(tx, kept)->state, PacketState::kActive);
    return Status::Ok();
  });
  EXPECT_TRUE(read.ok());
}

TEST_F(LedgerTest, ANestedFailureUndoesOnlyItsOwnWrites) {
  const int64_t outer = NewPacketRow("outer");
  const int64_t inner = NewPacketRow("inner");
  Status s = engine_->RunSync([&](Tx& tx) {
    Status m = Move(tx, outer, PacketState::kAwaitingPayment, PacketState::kActive, "t", 1);
    if (!m.ok()) return m;
    Status nested = tx.Nested([&](Tx& t) {
      Status n = Move(t, inner, PacketState::kAwaitingPayment, PacketState::kActive, "t", 1);
      return n.ok() ? Status(Error::kSoldOut, "undo me") : n;
    });
    EXPECT_TRUE(nested.Is(Error::kSoldOut));
    return Status::Ok();
  });
  ASSERT_TRUE(s.ok());
  Status read = engine_->Read([&](ReadTx& tx) {
    EXPECT_EQ(packets::Load(tx, outer)->state, PacketState::kActive);
    EXPECT_EQ(packets::Load(tx, inner)->state, PacketState::kAwaitingPayment);
    return Status::Ok();
  });
  EXPECT_TRUE(read.ok());
}

TEST_F(LedgerTest, ReadsWaitForAConnectionAtMostTheirBound) {
  std::promise<void> release;
  std::shared_future<void> released = release.get_future().share();
  std::promise<void> holding;
  std::thread holder([&] {
    Status s = engine_->Read([&](ReadTx&) {
      holding.set_value();
      released.wait();
      return Status::Ok();
    });
    EXPECT_TRUE(s.ok());
  });
  holding.get_future().wait();
  // The only connection is held: the next read is refused after read_wait_ms, not queued.
  Status second = engine_->Read([](ReadTx&) { return Status::Ok(); });
  EXPECT_TRUE(second.Is(Error::kOverloaded)) << second.ToString();
  release.set_value();
  holder.join();
  EXPECT_TRUE(engine_->Read([](ReadTx&) { return Status::Ok(); }).ok());
}

TEST_F(LedgerTest, ReadsSeeTheLastCommit) {
  const int64_t id = NewPacketRow("seen");
  Status s = engine_->Read([&](ReadTx& tx) {
    Result<std::vector<int64_t>> open = packets::OpenIds(tx, 10);
    EXPECT_TRUE(open.ok());
    if (open.ok()) {
      EXPECT_EQ(*open, std::vector<int64_t>{id});
    }
    return Status::Ok();
  });
  EXPECT_TRUE(s.ok());
}

TEST(TransitionsTest, TablesAllowOnlyTheDocumentedTransitions) {
  using S = PacketState;
  EXPECT_TRUE(Allowed(S::kAwaitingPayment, S::kActive));
  EXPECT_TRUE(Allowed(S::kExpired, S::kRefunded));
  EXPECT_FALSE(Allowed(S::kFinished, S::kActive));
  EXPECT_FALSE(Allowed(S::kClosed, S::kActive));
  EXPECT_TRUE(Allowed(S::kClosed, S::kExpired));  // Paid late: refunded in full.
  EXPECT_FALSE(Allowed(S::kActive, S::kRefunded));
  EXPECT_FALSE(Allowed(S::kAwaitingPayment, S::kFinished));
  EXPECT_TRUE(Allowed(std::nullopt, S::kAwaitingPayment));
  EXPECT_FALSE(Allowed(std::nullopt, S::kActive));
  EXPECT_TRUE(Allowed(ClaimState::kTransferFailed, ClaimState::kTransferred));
  EXPECT_FALSE(Allowed(ClaimState::kTransferred, ClaimState::kTransferPending));
  EXPECT_TRUE(Allowed(RefundState::kFailed, RefundState::kRefunded));
  EXPECT_FALSE(Allowed(SubsidyState::kUsed, SubsidyState::kRecorded));
}

TEST_F(LedgerTest, IllegalMovesAreRejectedCountedAndNotApplied) {
  const int64_t id = NewPacketRow("moves");
  const int64_t before = IllegalTransitions();
  Status s = engine_->RunSync([&](Tx& tx) {
    return Move(tx, id, PacketState::kAwaitingPayment, PacketState::kFinished, "test", 2000);
  });
  EXPECT_TRUE(s.Is(Error::kIllegalTransition)) << s.ToString();
  EXPECT_EQ(IllegalTransitions(), before + 1);
  // A legal transition from the wrong current state is refused too (conditional update).
  s = engine_->RunSync([&](Tx& tx) {
    return Move(tx, id, PacketState::kActive, PacketState::kFinished, "test", 2000);
  });
  EXPECT_TRUE(s.Is(Error::kStateChanged)) << s.ToString();
  s = engine_->Read([&](ReadTx& tx) {
    Result<PacketRecord> p = packets::Load(tx, id);
    EXPECT_TRUE(p.ok());
    if (p.ok()) {
      EXPECT_EQ(p->state, PacketState::kAwaitingPayment);
    }
    return Status::Ok();
  });
  EXPECT_TRUE(s.ok());
}

TEST_F(LedgerTest, OutboxLeasesHideTasksAndCountAttempts) {
  ASSERT_TRUE(engine_
                  ->RunSync([](Tx& tx) {
                    return outbox::Enqueue(tx, {TaskKind::kPayment, "PO1", 1, 100, "{}"}, 1000);
                  })
                  .ok());
  std::vector<TaskRecord> first, second;
  ASSERT_TRUE(engine_
                  ->RunSync([&](Tx& tx) {
                    first = *outbox::Lease(tx, 1000, 10, 500);
                    second = *outbox::Lease(tx, 1100, 10, 500);  // Still leased.
                    return Status::Ok();
                  })
                  .ok());
  ASSERT_EQ(first.size(), 1u);
  EXPECT_EQ(first[0].attempts, 1);
  EXPECT_TRUE(second.empty());
  ASSERT_TRUE(engine_
                  ->RunSync([&](Tx& tx) {
                    second = *outbox::Lease(tx, 1600, 10, 500);  // The lease ran out.
                    return Status::Ok();
                  })
                  .ok());
  ASSERT_EQ(second.size(), 1u);
  EXPECT_EQ(second[0].attempts, 2);
}

TEST(OpenTest, FilesThatAreNotLedgersAreRefusedWithAReason) {
  TempDir dir;
  EXPECT_TRUE(OpenReadOnly(dir.File("missing.db")).status().Is(Error::kBadConfig));
  std::ofstream(dir.File("empty.db"));
  Result<std::unique_ptr<Engine>> empty = OpenReadOnly(dir.File("empty.db"));
  EXPECT_TRUE(empty.status().Is(Error::kBadConfig)) << empty.status().ToString();
  std::ofstream(dir.File("text.db")) << "this is not a database, it is a poem\n";
  Result<std::unique_ptr<Engine>> text = OpenReadOnly(dir.File("text.db"));
  EXPECT_TRUE(text.status().Is(Error::kBadConfig)) << text.status().ToString();
}

TEST(OpenTest, MigrationsAreIdempotent) {
  TempDir dir;
  LedgerOptions o;
  o.path = dir.File("l.db");
  for (int i = 0; i < 2; ++i) {
    auto engine = OpenEngine(o);
    ASSERT_TRUE(engine.ok()) << engine.status().ToString();
    Status s = (*engine)->Read([](ReadTx& tx) {
      Result<int> v = SchemaVersion(tx);
      EXPECT_TRUE(v.ok());
      if (v.ok()) {
        EXPECT_EQ(*v, LatestSchemaVersion());
      }
      return Status::Ok();
    });
    EXPECT_TRUE(s.ok());
  }
  EXPECT_TRUE(OpenReadOnly(o.path).ok());
}

}  // namespace
}  // namespace rp::ledger
