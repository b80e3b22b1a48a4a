// The refunds table: at most one refund per packet (its remainder, or all of it when a payment
// arrived after the packet was closed).
#pragma once

#include <cstdint>

#include "common/status.h"
#include "server/ledger/records.h"
#include "server/ledger/sql.h"

namespace rp::ledger::refunds {

// Inserts r (refund_id ignored); returns the new refund_id. A second refund of one packet fails
// the UNIQUE packet and refund number (Conflict).
Result<int64_t> Insert(Tx& tx, const RefundRecord& r, int64_t now_ms);
// NotFound(missing_entity).
Result<RefundRecord> Load(ReadTx& tx, int64_t refund_id);

}  // namespace rp::ledger::refunds
