// Payment callbacks from the payment service: activate a paid packet, close a failed one.
// Duplicates of an identical callback are harmless; the signature is checked by the gateway.
#pragma once

#include <cstdint>
#include <string>

#include "common/sqlite.h"
#include "common/status.h"
#include "server/core/ledger_tx.h"

namespace rp::core {

struct PaymentCallback {
  std::string pay_order_no;
  std::string status;  // "paid" | "failed"
  int64_t amount_cents = 0;
};

struct PaymentOutcome {
  PacketRow packet;
  bool duplicate = false;
  bool refunded_late = false;  // Paid after the packet closed: taken and refunded in full.
};

// NotFound("pay_order_not_found"); Conflict("amount_mismatch") when a paid amount differs from
// the packet total (nothing is recorded; the packet stays unpaid); Conflict("payment_conflict")
// when the same pay order is reported with another status or amount; Conflict("packet_closed")
// when a payment arrives for a packet in any other state than awaiting_payment, except that a
// "paid" for a packet closed unpaid is accepted and refunded in full (closed -> expired with a
// refund order, refunded_late); a "failed" for a closed packet changes nothing.
Status PaymentTx(sql::Db& db, const PaymentCallback& cb, int64_t now_ms, PaymentOutcome* out);

}  // namespace rp::core
