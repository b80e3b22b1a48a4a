// Payment callbacks from the payment service: activate a paid packet, close a failed one.
// Duplicates of an identical callback are harmless; the signature is checked by the gateway.
#pragma once

#include <cstdint>
#include <string>

#include "common/status.h"
#include "server/ledger/records.h"
#include "server/ledger/sql.h"

namespace rp::core {

struct PaymentCallback {
  std::string pay_order_no;
  ledger::PaymentStatus status = ledger::PaymentStatus::kPaid;
  int64_t amount_cents = 0;
};

struct PaymentOutcome {
  ledger::PacketRecord packet;
  bool duplicate = false;
  bool refunded_late = false;  // Paid after the packet closed: taken and refunded in full.
};

// NotFound(pay_order_not_found); Conflict(amount_mismatch) when a paid amount differs from the
// packet total (nothing is recorded; the packet stays unpaid); Conflict(payment_conflict) when
// the same pay order is reported with another status or amount; Conflict(packet_closed) when a
// payment arrives for a packet in any other state than awaiting_payment, except that a "paid"
// for a packet closed unpaid is accepted and refunded in full (closed -> expired with a refund
// order, refunded_late); a "failed" for a closed packet changes nothing.
Status PaymentTx(ledger::Tx& tx, const PaymentCallback& cb, int64_t now_ms, PaymentOutcome* out);

// Orders the refund of amount_cents (> 0) of a packet in the current transaction: a refunds row
// in refund_pending and its outbox task (to the payer's pay order, or for B2C back to the
// subsidy's round budget). The packet's own state change is the caller's. A second refund of
// one packet fails the UNIQUE refund number (Conflict): a packet is refunded at most once.
Status OrderRefund(ledger::Tx& tx, int64_t packet_id, int64_t amount_cents,
                   const std::string& subsidy_id, std::string_view cause, int64_t now_ms);

}  // namespace rp::core
