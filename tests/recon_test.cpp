// Reconciliation names every kind of discrepancy planted in a copy of a real ledger (or on the
// service side), and finds nothing in the original.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <functional>
#include <thread>

#include <optional>

#include "server/ledger/engine.h"
#include "server/ledger/tamper.h"
#include "server/recon/recon.h"
#include "tests/support/fake_wallet.h"
#include "tests/support/harness.h"
#include "tests/support/shifted_clock.h"

namespace rp::testing {
namespace {

class ReconTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ServerConfig c = TestConfig(dir_);
    c.downstream.wallet_url = wallet_.url();
    c.downstream.payment_url = wallet_.url();
    c.recon.interval_ms = 0;
    c.async.idle_poll_ms = 5;
    c.async.retry_base_ms = 1;
    c.scanner.interval_ms = 20;
    c.packet.ttl_s = 60;
    server_ = std::make_unique<InProcessServer>(c, &clock_);
    ASSERT_TRUE(server_->app);
    Client client(server_->port);
    // One finished packet, one expired and refunded, all transfers done.
    for (int i = 0; i < 2; ++i) {
      Reply sent = client.SendPacket(1, "recon-" + std::to_string(i), 600, 3);
      ASSERT_EQ(sent.status, 201);
      wallet_.MarkPaid(sent.body["pay_order_no"], 600);
      ASSERT_EQ(client.Pay(sent.body["pay_order_no"], "paid", 600).status, 200);
      for (int u = 0; u < (i == 0 ? 3 : 1); ++u)
        ASSERT_EQ(client.Claim(sent.body["packet_id"], 10 + u).status, 201);
    }
    clock_.JumpMs(61'000);  // Both packets past their TTL: the second expires with a remainder.
    for (int i = 0; i < 2000 && wallet_.Applied().size() < 5; ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(5));  // Workers and the expiry scan.
    }
    ASSERT_EQ(wallet_.Applied().size(), 5u);  // 4 transfers + 1 refund.
    for (int i = 0; i < 2000; ++i) {
      if (client.Get("/v1/packets/2", 1).body["status"] == "refunded") break;
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    server_.reset();  // Closes every connection: the WAL is checkpointed into the file.
  }

  // Reconciles a copy of the ledger after `plant` changed it.
  recon::ReconResult ReconcileCopy(std::optional<ledger::Corruption> plant = std::nullopt) {
    const std::string copy = dir_.File("copy-" + std::to_string(++copies_) + ".db");
    Status copied = CopyLedger(dir_.File("ledger.db"), copy);
    EXPECT_TRUE(copied.ok()) << copied.ToString();
    if (plant) {
      Status planted = ledger::Corrupt(LedgerFor(copy), *plant);
      EXPECT_TRUE(planted.ok()) << planted.ToString();
    }
    std::unique_ptr<ledger::Engine> engine = OpenLedgerReadOnly(copy);
    if (!engine) return {};
    SystemClock clock;
    auto r = recon::Run(*engine, {wallet_.url(), wallet_.url(), "", 2000, 0}, clock);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() ? *r : recon::ReconResult{};
  }

  static bool Names(const recon::ReconResult& r, const std::string& kind) {
    const auto& v = r.report.violations;
    return std::any_of(v.begin(), v.end(), [&](const auto& x) { return x.kind == kind; });
  }

  ShiftedClock clock_;
  FakeWallet wallet_;
  TempDir dir_;
  std::unique_ptr<InProcessServer> server_;
  int copies_ = 0;
};

TEST_F(ReconTest, CleanLedgerReconcilesClean) {
  recon::ReconResult r = ReconcileCopy();
  EXPECT_TRUE(r.clean()) << conservation::Format(r.report);
  EXPECT_EQ(r.totals.c2c.paid_cents_service, 1200);
  EXPECT_EQ(r.totals.c2c.paid_cents_ledger, 1200);
  EXPECT_EQ(r.totals.c2c.claimed_cents + r.totals.c2c.refund_ordered_cents, 1200);
  EXPECT_EQ(r.totals.c2c.transferred_cents_wallet, r.totals.c2c.claimed_cents);
  EXPECT_EQ(r.totals.c2c.refunded_cents_wallet, r.totals.c2c.refund_ordered_cents);
}

TEST_F(ReconTest, NamesEveryPlantedDiscrepancy) {
  struct Case {
    const char* kind;
    ledger::Corruption plant;
  };
  const std::vector<Case> cases = {
      {"missing_transfer", ledger::Corruption::kMissingTransfer},
      {"transfer_amount_mismatch", ledger::Corruption::kTransferAmountMismatch},
      {"claim_sum_mismatch", ledger::Corruption::kClaimSumMismatch},
      {"orphan_payment", ledger::Corruption::kOrphanPayment},
      {"refund_amount_mismatch", ledger::Corruption::kRefundAmountMismatch},
      {"orphan_refund", ledger::Corruption::kOrphanRefund},
      {"double_claim", ledger::Corruption::kDoubleClaim},
  };
  for (const Case& c : cases) {
    recon::ReconResult r = ReconcileCopy(c.plant);
    EXPECT_FALSE(r.clean()) << c.kind;
    EXPECT_TRUE(Names(r, c.kind)) << c.kind << " not named in:\n" << conservation::Format(r.report);
  }
}

TEST_F(ReconTest, NamesAnOrphanTransferAtTheWallet) {
  wallet_.PlantTransfer("TR424242", 5, 300);
  recon::ReconResult r = ReconcileCopy();
  EXPECT_TRUE(Names(r, "orphan_transfer")) << conservation::Format(r.report);
  EXPECT_EQ(r.report.DriftCents(), 300);
}

}  // namespace
}  // namespace rp::testing

namespace rp::recon {
namespace {

// --since keeps packets created in the window with their claims, transfers, refunds and
// payments, and the service records that belong to them or to nothing in the ledger (orphans).
TEST(ReconWindowTest, KeepsTheWindowAndOrphans) {
  conservation::LedgerSnapshot l;
  l.packets = {{1, "finished", 100, 1, 100, 1, "PAY1", 1000, "c2c", ""},
               {2, "finished", 200, 1, 200, 1, "PAY2", 5000, "c2c", ""}};
  l.claims = {{10, 1, 7, 100, "transferred"}, {20, 2, 8, 200, "transferred"}};
  l.transfers = {{"TR10", 10, 100}, {"TR20", 20, 200}};
  l.payments = {{"PAY1", 1, "paid", 100}, {"PAY2", 2, "paid", 200}};
  conservation::ExternalRecords e;
  e.payments = {{"PAY1", "paid", 100}, {"PAY2", "paid", 200}, {"PAY9", "paid", 900}};
  e.transfers = {{"TR10", 7, 100}, {"TR20", 8, 200}, {"TR99", 9, 999}};
  RestrictToWindow(4000, &l, &e);
  ASSERT_EQ(l.packets.size(), 1u);
  EXPECT_EQ(l.packets[0].packet_id, 2);
  ASSERT_EQ(l.claims.size(), 1u);
  EXPECT_EQ(l.transfers.size(), 1u);
  EXPECT_EQ(l.payments.size(), 1u);
  ASSERT_EQ(e.payments.size(), 2u);  // PAY2 and the orphan PAY9.
  EXPECT_EQ(e.payments[1].pay_order_no, "PAY9");
  ASSERT_EQ(e.transfers.size(), 2u);  // TR20 and the orphan TR99.
  conservation::ReconTotals t;
  conservation::Report r = conservation::Reconcile(l, e, &t);
  EXPECT_EQ(t.c2c.claimed_cents, 200);
  EXPECT_EQ(r.violations.size(), 2u);  // orphan_payment PAY9, orphan_transfer TR99.
}

// A packet closed unpaid whose payment task still polls: the service's "paid" is on its way
// into the ledger (taken late and refunded), not an orphan to page anyone about; once the
// polling has ended, the same payment is an orphan.
TEST(ReconWindow, APaymentStillBeingPolledIsInFlightNotAnOrphan) {
  conservation::LedgerSnapshot l;
  l.packets = {{3, "closed", 300, 2, 0, 0, "PAY3", 1000, "c2c", "", /*payment_pending=*/true}};
  conservation::ExternalRecords e;
  e.payments = {{"PAY3", "paid", 300}};
  conservation::ReconTotals t;
  EXPECT_TRUE(conservation::Reconcile(l, e, &t).violations.empty());
  l.packets[0].payment_pending = false;
  const conservation::Report r = conservation::Reconcile(l, e, &t);
  ASSERT_EQ(r.violations.size(), 1u);
  EXPECT_EQ(r.violations[0].kind, "orphan_payment");
}

}  // namespace
}  // namespace rp::recon
