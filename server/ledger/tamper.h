// Deliberate corruption of a ledger (an SQLite file or a PostgreSQL database), for the tests that
// prove reconciliation and the conservation checker name each kind of discrepancy. Linked only into
// tests (rp_ledger_tamper); never part of a server. Each corruption is what a buggy writer or an
// operator's hand edit could leave behind; the name says which check must catch it.
#pragma once

#include <string>

#include "common/status.h"
#include "server/ledger/options.h"

namespace rp::ledger {

enum class Corruption {
  kMissingTransfer,         // A claim "transferred" that the wallet never paid.
  kTransferAmountMismatch,  // Claim 1 and its transfer order one cent more than paid.
  kClaimSumMismatch,        // Packet 1's row says one cent less than its claims.
  kOrphanPayment,           // Packet 1's payment and claims gone, the packet closed.
  kRefundAmountMismatch,    // Every refund one cent less than the wallet paid.
  kOrphanRefund,            // A refund renumbered: the wallet's refund has no order.
  kDoubleClaim,             // Claim 1 inserted again for the same user.
  kSubsidyAmountMismatch,   // Subsidies worth 299 cents.
  kUnknownSubsidy,          // A subsidy the reward service never issued.
  kB2cAmountMismatch,       // B2C packets of 301 cents.
};

// Applies the corruption to the ledger (no server may have it open), with its constraints off
// (PostgreSQL: its CHECK constraints dropped). Not thread-safe with anything using the ledger.
[[nodiscard]] Status Corrupt(const LedgerOptions& ledger, Corruption what);

}  // namespace rp::ledger
