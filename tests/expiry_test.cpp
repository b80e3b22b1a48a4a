// Expiry and refunds driven by an injected clock: no waiting on wall time.
#include <gtest/gtest.h>

#include "common/crypto.h"
#include "server/base/schema.h"
#include "server/core/ledger_tx.h"
#include "server/core/send.h"
#include "server/core/state_machine.h"
#include "tests/support/harness.h"

namespace rp::testing {
namespace {

// Before today, so tokens minted from the wall clock are valid at the injected time.
constexpr int64_t kStartMs = 1'700'000'000'000;

class ExpiryTest : public ::testing::Test {
 protected:
  void SetUp() override {
    base::ServerConfig config = TestConfig(dir_);
    config.packet_ttl_s = 60;
    server_ = std::make_unique<InProcessServer>(config, &clock_);
    ASSERT_TRUE(server_->app);
    client_ = std::make_unique<Client>(server_->port);
  }
  void TearDown() override {
    if (server_ && server_->app) server_->app->Stop();
    EXPECT_TRUE(LedgerConserves(dir_.File("ledger.db")));
  }
  // Sends a packet nobody pays and lets the scanner close it at its expiry; returns the send.
  Reply ClosedUnpaid(const std::string& order_no) {
    Reply sent = client_->SendPacket(1, order_no, 1000, 5);
    clock_.AdvanceMs(60'000);
    EXPECT_TRUE(server_->app->ScanExpiredNow().ok());
    EXPECT_EQ(Status(sent.body["packet_id"]), "closed");
    return sent;
  }
  std::string Status(int64_t packet) {
    return client_->Get("/v1/packets/" + std::to_string(packet), 1).body["status"];
  }

  ManualClock clock_{kStartMs};
  TempDir dir_;
  std::unique_ptr<InProcessServer> server_;
  std::unique_ptr<Client> client_;
};

// Tokens are checked against the injected clock too, so they are minted for it.
TEST_F(ExpiryTest, ExpiredPacketRefusesClaimsAndOrdersARefundOfTheRemainder) {
  Reply sent = client_->SendPacket(1, "exp", 1000, 5);
  const int64_t packet = sent.body["packet_id"];
  ASSERT_EQ(client_->Pay(sent.body["pay_order_no"], "paid", 1000).status, 200);
  int64_t claimed = 0;
  for (int u = 10; u < 12; ++u)
    claimed += client_->Claim(packet, u).body["amount_cents"].get<int64_t>();

  clock_.AdvanceMs(59'999);
  ASSERT_TRUE(server_->app->ScanExpiredNow().ok());
  EXPECT_EQ(Status(packet), "active");  // Not yet.
  clock_.AdvanceMs(1);
  Reply late = client_->Claim(packet, 20);
  EXPECT_EQ(late.status, 410);  // Refused even before the scanner has run.
  EXPECT_EQ(late.body["error"]["code"], "expired");
  EXPECT_EQ(client_->Claim(packet, 10).status, 200);  // An earlier winner still sees their claim.

  ASSERT_TRUE(server_->app->ScanExpiredNow().ok());
  EXPECT_EQ(Status(packet), "expired");
  Reply p = client_->Get("/v1/packets/" + std::to_string(packet), 1);
  EXPECT_EQ(p.body["remaining_cents"], 1000 - claimed);
  ASSERT_TRUE(server_->app->ScanExpiredNow().ok());  // A second pass changes nothing.
  EXPECT_EQ(Status(packet), "expired");
}

TEST_F(ExpiryTest, UnpaidPacketIsClosedAtExpiry) {
  Reply sent = ClosedUnpaid("unpaid");
  EXPECT_EQ(client_->Claim(sent.body["packet_id"], 10).status, 409);
}

// The payer paid after all (the callback arrives after the close): the money is taken and
// refunded in full, never left with nobody owing it back.
TEST_F(ExpiryTest, PaymentAfterAnUnpaidCloseIsRefundedInFull) {
  Reply sent = ClosedUnpaid("late");
  const int64_t packet = sent.body["packet_id"];
  Reply late = client_->Pay(sent.body["pay_order_no"], "paid", 1000);
  ASSERT_EQ(late.status, 200) << late.raw;
  EXPECT_EQ(late.body["status"], "expired");
  EXPECT_EQ(late.body["refunded_late"], true);
  EXPECT_EQ(client_->Get("/v1/packets/" + std::to_string(packet), 1).body["remaining_cents"],
            1000);  // Nothing was claimable: all of it is owed back.
  EXPECT_EQ(client_->Claim(packet, 10).status, 410);
  Reply again = client_->Pay(sent.body["pay_order_no"], "paid", 1000);  // A duplicate callback.
  EXPECT_EQ(again.status, 200);
  EXPECT_EQ(again.body["duplicate"], true);
  EXPECT_EQ(client_->Pay(sent.body["pay_order_no"], "failed", 1000).status, 409);
  ASSERT_TRUE(server_->app->ScanExpiredNow().ok());  // The scanner leaves it alone.
  EXPECT_EQ(Status(packet), "expired");
  server_->app->Stop();
  auto db = sql::Db::Open(dir_.File("ledger.db"), {});
  ASSERT_TRUE(db.ok());
  sql::Stmt& q = (*db)->Prepare(
      "SELECT COUNT(*), SUM(r.amount_cents), SUM(r.packet_id = ?), "
      "(SELECT COUNT(*) FROM outbox WHERE kind = 'refund'), "
      "(SELECT COUNT(*) FROM payments WHERE status = 'paid') FROM refunds r");
  q.Bind(1, packet);
  ASSERT_TRUE(q.Step());
  EXPECT_EQ(q.Int(0), 1);     // One refund order...
  EXPECT_EQ(q.Int(1), 1000);  // ...of everything paid...
  EXPECT_EQ(q.Int(2), 1);     // ...for this packet...
  EXPECT_EQ(q.Int(3), 1);     // ...with its task for the refund worker,
  EXPECT_EQ(q.Int(4), 1);     // and the payment on record.
  q.Reset();
}

TEST_F(ExpiryTest, AFailedPaymentForAClosedPacketChangesNothing) {
  Reply sent = ClosedUnpaid("late-failed");
  Reply r = client_->Pay(sent.body["pay_order_no"], "failed", 1000);
  EXPECT_EQ(r.status, 409);
  EXPECT_EQ(r.body["error"]["code"], "packet_closed");
  EXPECT_EQ(Status(sent.body["packet_id"]), "closed");
}

TEST_F(ExpiryTest, FinishedPacketsAreLeftAlone) {
  Reply sent = client_->SendPacket(1, "done", 300, 3, "even");
  const int64_t packet = sent.body["packet_id"];
  ASSERT_EQ(client_->Pay(sent.body["pay_order_no"], "paid", 300).status, 200);
  for (int u = 10; u < 13; ++u) EXPECT_EQ(client_->Claim(packet, u).body["amount_cents"], 100);
  clock_.AdvanceMs(120'000);
  ASSERT_TRUE(server_->app->ScanExpiredNow().ok());
  EXPECT_EQ(Status(packet), "finished");
}

TEST(StateMachineTest, TablesAllowOnlyTheDocumentedTransitions) {
  using namespace core;
  const StateMachine& p = PacketMachine();
  EXPECT_TRUE(p.Allows("awaiting_payment", "active"));
  EXPECT_TRUE(p.Allows("expired", "refunded"));
  EXPECT_FALSE(p.Allows("finished", "active"));
  EXPECT_FALSE(p.Allows("closed", "active"));
  EXPECT_TRUE(p.Allows("closed", "expired"));  // Paid late: refunded in full.
  EXPECT_FALSE(p.Allows("active", "refunded"));
  EXPECT_FALSE(p.Allows("awaiting_payment", "finished"));
  EXPECT_TRUE(ClaimMachine().Allows("transfer_failed", "transferred"));
  EXPECT_FALSE(ClaimMachine().Allows("transferred", "transfer_pending"));
}

}  // namespace
}  // namespace rp::testing

namespace rp::core {
namespace {

TEST(LedgerTxTest, IllegalTransitionIsRejectedCountedAndNotApplied) {
  testing::TempDir dir;
  auto db = sql::Db::Open(dir.File("l.db"), {});
  ASSERT_TRUE(db.ok());
  ASSERT_TRUE(base::Migrate(**db).ok());
  SendRequest req{"o1", "c2c", 100, 2, "random", "public", "v", "", ""};
  SendOutcome out;
  ASSERT_TRUE((*db)->Exec("BEGIN").ok());
  ASSERT_TRUE(SendTx(**db, req, 1, 20000, 1000, 60000, std::nullopt, &out).ok());
  const int64_t before = IllegalTransitions();
  Status s = MovePacket(**db, out.packet.packet_id, packet_state::kAwaitingPayment,
                        packet_state::kFinished, "test", 2000);
  EXPECT_EQ(s.error(), "illegal_transition");
  EXPECT_EQ(IllegalTransitions(), before + 1);
  // A legal transition from the wrong current state is refused too (conditional update).
  s = MovePacket(**db, out.packet.packet_id, packet_state::kActive, packet_state::kFinished, "test",
                 2000);
  EXPECT_EQ(s.error(), "state_changed");
  ASSERT_TRUE((*db)->Exec("ROLLBACK").ok());
}

}  // namespace
}  // namespace rp::core
