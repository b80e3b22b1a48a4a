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
};

struct ClaimRecord {
  int64_t claim_id = 0;
  int64_t packet_id = 0;
  int64_t user_id = 0;
  int64_t amount_cents = 0;
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
};

struct LedgerSnapshot {
  std::vector<PacketRecord> packets;
  std::vector<ClaimRecord> claims;
  std::vector<TransferRecord> transfers;
  std::vector<RefundRecord> refunds;
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

// One line per violation plus a totals line; for CLIs and test failure messages.
std::string Format(const Report& report);

}  // namespace rp::conservation
