// Expiry and refunds driven by an injected clock: no waiting on wall time.
#include <gtest/gtest.h>

#include <climits>

#include "common/crypto.h"
#include "server/ledger/engine.h"
#include "server/ledger/outbox.h"
#include "server/ledger/snapshot.h"
#include "tests/support/harness.h"

namespace rp::testing {
namespace {

// Before today, so tokens minted from the wall clock are valid at the injected time.
constexpr int64_t kStartMs = 1'700'000'000'000;

class ExpiryTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ServerConfig config = TestConfig(dir_);
    config.packet.ttl_s = 60;
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
  std::unique_ptr<ledger::Engine> engine = OpenLedgerReadOnly(dir_.File("ledger.db"));
  ASSERT_TRUE(engine);
  conservation::LedgerSnapshot snap;
  ledger::outbox::Backlog tasks;
  ASSERT_TRUE(engine
                  ->Read([&](ledger::ReadTx& tx) {
                    auto b = ledger::outbox::Stuck(tx, INT64_MAX);
                    if (!b.ok()) return b.status();
                    tasks = *b;
                    return ledger::LoadSnapshot(tx, &snap);
                  })
                  .ok());
  ASSERT_EQ(snap.refunds.size(), 1u);                    // One refund order...
  EXPECT_EQ(snap.refunds[0].amount_cents, 1000);         // ...of everything paid...
  EXPECT_EQ(snap.refunds[0].packet_id, packet);          // ...for this packet...
  EXPECT_EQ(tasks.stuck[ledger::TaskKind::kRefund], 1);  // ...with its task for the refund worker,
  ASSERT_EQ(snap.payments.size(), 1u);                   // and the payment on record.
  EXPECT_EQ(snap.payments[0].status, "paid");
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

}  // namespace
}  // namespace rp::testing
