// The cond_update scheme draws a claim from the packet as its process last saw it. When another
// writer moved the packet on meanwhile (another instance, another scheme on the same ledger), the
// guarded update must fail and the claim be tried again on the packet as it is — never a share
// drawn twice, a count past the total or a repeat claimer paid twice. Here a db_lock scheme on
// the same ledger plays the other writer between cond_update's claims.
#include <gtest/gtest.h>

#include <future>
#include <map>
#include <memory>
#include <set>

#include "common/clock.h"
#include "server/core/scheme_registry.h"
#include "server/ledger/engine.h"
#include "server/ledger/packets.h"
#include "server/ledger/state.h"
#include "tests/util/temp_dir.h"

namespace rp::core {
namespace {

constexpr int64_t kStartMs = 1'000'000;
constexpr int64_t kTotalCents = 1000, kCount = 10;

class CondUpdateTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ledger::LedgerOptions o;
    o.path = dir_.File("ledger.db");
    Result<std::unique_ptr<ledger::Engine>> engine = ledger::OpenEngine(o);
    ASSERT_TRUE(engine.ok()) << engine.status().ToString();
    engine_ = std::move(engine.value());
    ClaimSchemeDeps deps;
    deps.ledger = engine_.get();
    deps.clock = &clock_;
    Result<std::unique_ptr<ClaimScheme>> cond = MakeClaimScheme("cond_update", deps);
    Result<std::unique_ptr<ClaimScheme>> lock = MakeClaimScheme("db_lock", deps);
    ASSERT_TRUE(cond.ok() && lock.ok());
    cond_ = std::move(cond.value());
    lock_ = std::move(lock.value());
  }
  void TearDown() override {
    cond_.reset();
    lock_.reset();
    engine_->Stop();
  }

  // An active packet of kTotalCents in kCount shares, expiring in an hour.
  int64_t ActivePacket() {
    int64_t id = 0;
    Status s = engine_->RunSync([&](ledger::Tx& tx) {
      ledger::NewPacket p;
      p.sender_id = 1;
      p.order_no = "cond-1";
      p.request_hash = "h";
      p.total_cents = kTotalCents;
      p.count = kCount;
      p.share_cap_cents = kTotalCents;
      p.video_id = "v";
      p.created_at_ms = kStartMs;
      p.expires_at_ms = kStartMs + 3'600'000;
      Result<int64_t> r = ledger::packets::Insert(tx, p);
      if (!r.ok()) return r.status();
      id = *r;
      Status c =
          ledger::RecordCreated(tx, id, ledger::PacketState::kAwaitingPayment, "t", kStartMs);
      if (!c.ok()) return c;
      return ledger::Move(tx, id, ledger::PacketState::kAwaitingPayment,
                          ledger::PacketState::kActive, "paid", kStartMs);
    });
    EXPECT_TRUE(s.ok()) << s.ToString();
    return id;
  }

  static Result<ClaimOutcome> ClaimWith(ClaimScheme& scheme, int64_t packet, int64_t user) {
    std::promise<Result<ClaimOutcome>> answered;
    scheme.Claim(packet, user, [&](Result<ClaimOutcome> r) { answered.set_value(std::move(r)); });
    return answered.get_future().get();
  }

  ledger::PacketRecord Packet(int64_t id) {
    ledger::PacketRecord p;
    Status s = engine_->Read([&](ledger::ReadTx& tx) {
      Result<ledger::PacketRecord> r = ledger::packets::Load(tx, id);
      if (!r.ok()) return r.status();
      p = *r;
      return Status::Ok();
    });
    EXPECT_TRUE(s.ok()) << s.ToString();
    return p;
  }

  rp::testing::TempDir dir_;
  ManualClock clock_{kStartMs};
  std::unique_ptr<ledger::Engine> engine_;
  std::unique_ptr<ClaimScheme> cond_, lock_;
};

TEST_F(CondUpdateTest, AClaimAfterAnotherWriterMovedThePacketOnIsDrawnFromThePacketAsItIs) {
  const int64_t packet = ActivePacket();
  std::map<int64_t, ClaimOutcome> won;  // By user.
  // Alternate writers: every cond_update claim after the first finds what it saw last stale.
  for (int64_t user = 1; user <= kCount; ++user) {
    ClaimScheme& scheme = user % 2 == 1 ? *cond_ : *lock_;
    Result<ClaimOutcome> r = ClaimWith(scheme, packet, user);
    ASSERT_TRUE(r.ok()) << scheme.name() << " user " << user << ": " << r.status().ToString();
    EXPECT_FALSE(r->repeat);
    EXPECT_EQ(r->claim.seq, user) << "claims are numbered in the order they committed";
    won[user] = *r;
  }
  int64_t sum = 0;
  std::set<int64_t> seqs;
  for (const auto& [user, o] : won) {
    sum += o.claim.amount_cents;
    seqs.insert(o.claim.seq);
  }
  EXPECT_EQ(sum, kTotalCents);
  EXPECT_EQ(static_cast<int64_t>(seqs.size()), kCount);
  const ledger::PacketRecord p = Packet(packet);
  EXPECT_EQ(p.claimed_count, kCount);
  EXPECT_EQ(p.claimed_cents, kTotalCents);
  EXPECT_EQ(p.state, ledger::PacketState::kFinished);

  // Sold out: a newcomer is refused, and a winner of either scheme gets its own claim back.
  Result<ClaimOutcome> late = ClaimWith(*cond_, packet, 999);
  ASSERT_FALSE(late.ok());
  EXPECT_TRUE(late.status().Is(Error::kSoldOut)) << late.status().ToString();
  for (int64_t user : {1, 2}) {
    Result<ClaimOutcome> again = ClaimWith(*cond_, packet, user);
    ASSERT_TRUE(again.ok()) << again.status().ToString();
    EXPECT_TRUE(again->repeat);
    EXPECT_EQ(again->claim.claim_id, won[user].claim.claim_id);
    EXPECT_EQ(again->claim.amount_cents, won[user].claim.amount_cents);
  }
}

TEST_F(CondUpdateTest, ARepeatClaimerItDidNotKnowGetsItsFirstClaimNotASecond) {
  const int64_t packet = ActivePacket();
  ASSERT_TRUE(ClaimWith(*cond_, packet, 1).ok());  // cond_update now remembers the packet.
  Result<ClaimOutcome> first = ClaimWith(*lock_, packet, 2);
  ASSERT_TRUE(first.ok());
  // User 2 asks cond_update, whose packet is stale and which never saw user 2's claim: the
  // insert is refused by the table, the packet read again, the first claim returned.
  Result<ClaimOutcome> again = ClaimWith(*cond_, packet, 2);
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  EXPECT_TRUE(again->repeat);
  EXPECT_EQ(again->claim.claim_id, first->claim.claim_id);
  EXPECT_EQ(Packet(packet).claimed_count, 2);
  // And the next newcomer is numbered after both.
  Result<ClaimOutcome> third = ClaimWith(*cond_, packet, 3);
  ASSERT_TRUE(third.ok()) << third.status().ToString();
  EXPECT_EQ(third->claim.seq, 3);
}

// A sold-out packet's refusals must not queue on its row lock: the first refusal reads the
// packet's claimers in its write job; after it, newcomers are refused in-process, while a
// winner still gets its claim back from the ledger.
TEST_F(CondUpdateTest, RefusalsOnAFinalPacketStayOffTheWritePath) {
  const int64_t packet = ActivePacket();
  for (int64_t user = 1; user <= kCount; ++user) {
    ASSERT_TRUE(ClaimWith(*cond_, packet, user).ok()) << user;
  }
  Result<ClaimOutcome> first = ClaimWith(*cond_, packet, 100);
  ASSERT_TRUE(first.status().Is(Error::kSoldOut)) << first.status().ToString();
  const int64_t jobs_started = engine_->Stats().lock_waits;  // Every claim job carries a key.
  for (int64_t user = 101; user <= 150; ++user) {
    Result<ClaimOutcome> r = ClaimWith(*cond_, packet, user);
    ASSERT_TRUE(r.status().Is(Error::kSoldOut)) << user << ": " << r.status().ToString();
  }
  EXPECT_EQ(engine_->Stats().lock_waits, jobs_started);
  Result<ClaimOutcome> again = ClaimWith(*cond_, packet, 3);
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  EXPECT_TRUE(again->repeat);
  EXPECT_EQ(engine_->Stats().lock_waits, jobs_started + 1);
}

}  // namespace
}  // namespace rp::core
