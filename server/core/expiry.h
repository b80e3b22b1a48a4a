// Expiry: packets time has run out on. Active packets past expires_at with money left become
// expired with a refund order for the remainder; packets still awaiting payment are closed.
// The scheduling (how often, how many per pass) is the async module's expiry scanner.
#pragma once

#include <cstdint>

#include "common/status.h"
#include "server/ledger/sql.h"

namespace rp::core {

struct ExpiryResult {
  int64_t expired = 0;
  int64_t closed = 0;
  int64_t refund_cents = 0;
};

// One pass over at most limit packets due at now_ms, in the caller's transaction.
Status ExpireDueTx(ledger::Tx& tx, int64_t now_ms, int limit, ExpiryResult* out);

}  // namespace rp::core
