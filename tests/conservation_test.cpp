// The conservation checker names every kind of broken money it is meant to catch.
#include <gtest/gtest.h>

#include <algorithm>

#include "common/conservation.h"

namespace rp::conservation {
namespace {

// A clean ledger: one finished packet, one active, one expired with its refund.
LedgerSnapshot Clean() {
  LedgerSnapshot s;
  s.packets = {{1, "finished", 300, 2, 300, 2, "PAY1", 0, "c2c", ""},
               {2, "active", 500, 5, 100, 1, "PAY2", 0, "c2c", ""},
               {3, "expired", 400, 4, 150, 1, "PAY3", 0, "c2c", ""},
               {4, "awaiting_payment", 900, 3, 0, 0, "PAY4", 0, "c2c", ""}};
  s.claims = {{10, 1, 100, 120, "transferred"},
              {11, 1, 101, 180, "transferred"},
              {12, 2, 100, 100, "transfer_pending"},
              {13, 3, 102, 150, "transferred"}};
  s.transfers = {{"TR10", 10, 120}, {"TR11", 11, 180}, {"TR12", 12, 100}, {"TR13", 13, 150}};
  s.refunds = {{"RF3", 3, 250, "refunded"}};
  s.payments = {{"PAY1", 1, "paid", 300}, {"PAY2", 2, "paid", 500}, {"PAY3", 3, "paid", 400}};
  return s;
}

bool Names(const Report& r, const std::string& kind) {
  return std::any_of(r.violations.begin(), r.violations.end(),
                     [&](const Violation& v) { return v.kind == kind; });
}

TEST(ConservationTest, CleanLedgerBalances) {
  Report r = Check(Clean());
  EXPECT_TRUE(r.ok()) << Format(r);
  EXPECT_EQ(r.funded_cents, 1200);
  EXPECT_EQ(r.funded_cents, r.claimed_cents + r.refund_cents + r.open_cents);
}

TEST(ConservationTest, DetectsDoubleClaim) {
  LedgerSnapshot s = Clean();
  s.claims.push_back({14, 2, 100, 50, "transfer_pending"});
  s.transfers.push_back({"TR14", 14, 50});
  s.packets[1].claimed_cents = 150;
  s.packets[1].claimed_count = 2;
  EXPECT_TRUE(Names(Check(s), "double_claim"));
}

TEST(ConservationTest, DetectsOverIssue) {
  LedgerSnapshot s = Clean();
  s.claims.push_back({14, 1, 105, 10, "transfer_pending"});
  s.transfers.push_back({"TR14", 14, 10});
  Report r = Check(s);
  EXPECT_TRUE(Names(r, "over_issued")) << Format(r);
  EXPECT_TRUE(Names(r, "claim_sum_mismatch"));
}

TEST(ConservationTest, DetectsMissingAndDuplicateTransfers) {
  LedgerSnapshot s = Clean();
  s.transfers.pop_back();
  EXPECT_TRUE(Names(Check(s), "missing_transfer"));
  s = Clean();
  s.transfers.push_back({"TR10b", 10, 120});
  EXPECT_TRUE(Names(Check(s), "duplicate_transfer"));
  s = Clean();
  s.transfers[0].amount_cents = 121;
  EXPECT_TRUE(Names(Check(s), "transfer_amount_mismatch"));
}

TEST(ConservationTest, DetectsWrongOrMissingRefund) {
  LedgerSnapshot s = Clean();
  s.refunds[0].amount_cents = 249;
  Report r = Check(s);
  EXPECT_TRUE(Names(r, "unbalanced"));
  EXPECT_EQ(r.DriftCents(), 1);
  s = Clean();
  s.refunds.clear();
  EXPECT_TRUE(Names(Check(s), "missing_refund"));
  s = Clean();
  s.refunds.push_back({"RF3b", 3, 250, "refund_pending"});
  EXPECT_TRUE(Names(Check(s), "duplicate_refund"));
}

TEST(ConservationTest, DetectsMovementsOnUnfundedPackets) {
  LedgerSnapshot s = Clean();
  s.claims.push_back({14, 4, 100, 300, "transfer_pending"});
  s.transfers.push_back({"TR14", 14, 300});
  s.packets[3].claimed_cents = 300;
  s.packets[3].claimed_count = 1;
  EXPECT_TRUE(Names(Check(s), "unfunded_movement"));
}

TEST(ConservationTest, DetectsFinishedPacketWithSharesLeft) {
  LedgerSnapshot s = Clean();
  s.packets[1].status = "finished";
  Report r = Check(s);
  EXPECT_TRUE(Names(r, "bad_finish"));
  EXPECT_TRUE(Names(r, "unbalanced"));
}

}  // namespace
}  // namespace rp::conservation
