// The conservation checker: one definition of "no money created, destroyed or double-paid",
// modelled on Jepsen's bank test. The server's `check` command, the tests, the simulator's
// verification and reconciliation all feed it a LedgerSnapshot and read its report.
//
// Invariant for every packet (all amounts int64 cents):
//   funded total = claimed + refunded (or refund ordered) + still open,
// where "still open" is the unclaimed remainder of an active packet and zero in every final
// state; every claim has exactly one transfer order of the same amount; no user claims a packet
// twice. The checker is pure (no I/O) and thread-compatible.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace rp::conservation {

struct PacketRecord {
  int64_t packet_id = 0;
  std::string status;  // awaiting_payment | active | finished | expired | refunded | closed
  int64_t total_cents = 0;
  int64_t count = 0;
  int64_t claimed_cents = 0;  // As the packet row says; checked against the claims.
  int64_t claimed_count = 0;
  std::string pay_order_no;  // C2C: the pay order that funds it.
  int64_t created_at_ms = 0;
  std::string kind = "c2c";  // c2c | b2c
  std::string subsidy_id;    // B2C: the subsidy that funds it.
  // A payment task still polls the pay order (a packet closed unpaid, within the late-poll
  // window): a payment the service took is on its way into the ledger (and its refund), not an
  // orphan.
  bool payment_pending = false;
};

struct ClaimRecord {
  int64_t claim_id = 0;
  int64_t packet_id = 0;
  int64_t user_id = 0;
  int64_t amount_cents = 0;
  std::string status;  // transfer_pending | transferred | transfer_failed
};

// An order to move a claim's money to the claimer's wallet (the outbox row).
struct TransferRecord {
  std::string transfer_no;
  int64_t claim_id = 0;
  int64_t amount_cents = 0;
};

// An order to return an expired packet's remainder.
struct RefundRecord {
  std::string refund_no;
  int64_t packet_id = 0;
  int64_t amount_cents = 0;
  std::string status;  // refund_pending | refunded | refund_failed
};

// A payment outcome the ledger accepted (callback or poll).
struct PaymentRecord {
  std::string pay_order_no;
  int64_t packet_id = 0;
  std::string status;  // paid | failed
  int64_t amount_cents = 0;
};

// A B2C subsidy as the ledger recorded it.
struct SubsidyRecord {
  std::string subsidy_id;
  int64_t amount_cents = 0;
  std::string state;  // recorded | trying | confirming | used | released
  int64_t packet_id = 0;
};

struct LedgerSnapshot {
  std::vector<PacketRecord> packets;
  std::vector<ClaimRecord> claims;
  std::vector<TransferRecord> transfers;
  std::vector<RefundRecord> refunds;
  std::vector<PaymentRecord> payments;
  std::vector<SubsidyRecord> subsidies;
};

// The other side's records (payment service, wallet), for reconciliation.
struct ExternalPayment {
  std::string pay_order_no;
  std::string status;  // pending | paid | failed
  int64_t amount_cents = 0;
};
struct ExternalTransfer {
  std::string transfer_no;
  int64_t user_id = 0;
  int64_t amount_cents = 0;
};
struct ExternalRefund {
  std::string refund_no;
  std::string pay_order_no;  // C2C refunds.
  int64_t amount_cents = 0;
  std::string subsidy_id;  // B2C refunds (back to the rain round's budget).
};
struct ExternalSubsidy {
  std::string subsidy_id;
  std::string round;
  int64_t amount_cents = 0;
  std::string state;  // issued | frozen | used
};
struct ExternalRound {
  std::string round;
  int64_t budget_cents = 0;
  int64_t issued_cents = 0;
  int64_t returned_cents = 0;
};
struct ExternalRecords {
  std::vector<ExternalPayment> payments;
  std::vector<ExternalTransfer> transfers;
  std::vector<ExternalRefund> refunds;
  bool has_reward = false;  // The reward service's records were fetched.
  std::vector<ExternalSubsidy> subsidies;
  std::vector<ExternalRound> rounds;
};

// Per-flow totals of a reconciliation (C2C: paid -> transferred -> refunded).
struct FlowTotals {
  int64_t paid_cents_service = 0;        // Paid at the payment service.
  int64_t paid_cents_ledger = 0;         // Payments the ledger accepted.
  int64_t claimed_cents = 0;             // Claims in the ledger.
  int64_t transferred_cents_wallet = 0;  // Transfers the wallet executed.
  int64_t transfer_pending_cents = 0;    // Claims whose transfer is not confirmed yet.
  int64_t refund_ordered_cents = 0;      // Refund orders in the ledger.
  int64_t refunded_cents_wallet = 0;     // Refunds the wallet executed.
  int64_t refund_pending_cents = 0;
};

// B2C issuance: subsidy issued (reward service) -> persisted (ledger) -> used by a packet.
struct IssuanceTotals {
  int64_t issued_cents_service = 0;
  int64_t returned_cents_service = 0;  // Refunded remainders back in round budgets.
  int64_t persisted_cents_ledger = 0;
  int64_t used_cents_ledger = 0;  // Subsidies funding an active/finished/expired packet.
};

struct ReconTotals {
  FlowTotals c2c;  // "paid" = paid at the payment service / accepted by the ledger.
  FlowTotals b2c;  // "paid" = subsidies funding packets.
  IssuanceTotals issuance;
};

struct Violation {
  std::string kind;  // Stable snake_case, e.g. "over_issued", "double_claim".
  int64_t packet_id = 0;
  int64_t drift_cents = 0;  // Signed amount by which money is off (0 when not a sum error).
  std::string detail;
};

struct Report {
  int64_t packets = 0;
  int64_t funded_cents = 0;
  int64_t claimed_cents = 0;
  int64_t refund_cents = 0;
  int64_t open_cents = 0;
  std::vector<Violation> violations;

  bool ok() const { return violations.empty(); }
  // Sum of |drift_cents| over all violations.
  int64_t DriftCents() const;
};

// True when money has entered the packet (payment or subsidy confirmed).
bool IsFunded(const std::string& status);

Report Check(const LedgerSnapshot& snapshot);

// Reconciliation: Check() plus the ledger compared record by record with the external side.
// Discrepancy kinds: orphan_payment (paid at the service, refused or unknown in the ledger),
// unbacked_payment (ledger paid, service not), payment_amount_mismatch, orphan_transfer,
// transfer_amount_mismatch, missing_transfer (ledger says transferred, wallet has none),
// orphan_refund, refund_amount_mismatch, missing_refund_at_wallet, over_refund.
// Work still in flight (a transfer not yet executed) is counted in totals, not flagged.
// B2C kinds: over_issued_round (a round's issued - returned exceeds its budget),
// unknown_subsidy (the ledger has a subsidy the reward service never issued),
// subsidy_amount_mismatch, subsidy_double_use, b2c_amount_mismatch (packet total != subsidy),
// subsidy_not_used_at_service (the ledger says used; the service does not).
Report Reconcile(const LedgerSnapshot& ledger, const ExternalRecords& external,
                 ReconTotals* totals);

// One line per violation plus a totals line; for CLIs and test failure messages.
std::string Format(const Report& report);

}  // namespace rp::conservation
