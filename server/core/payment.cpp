#include "server/core/payment.h"

#include <nlohmann/json.hpp>

#include "common/check.h"
#include "server/core/order_numbers.h"
#include "server/ledger/outbox.h"
#include "server/ledger/packets.h"
#include "server/ledger/payments.h"
#include "server/ledger/refunds.h"
#include "server/ledger/state.h"

namespace rp::core {
namespace {

using ledger::PacketState;
using ledger::PaymentStatus;

Status RecordPayment(ledger::Tx& tx, int64_t packet_id, const PaymentCallback& cb, int64_t now_ms) {
  return ledger::payments::Insert(tx,
                                  {cb.pay_order_no, packet_id, cb.status, cb.amount_cents, now_ms});
}

Status Reload(ledger::Tx& tx, int64_t packet_id, PaymentOutcome* out) {
  Result<ledger::PacketRecord> after = ledger::packets::Load(tx, packet_id);
  if (!after.ok()) return after.status();
  out->packet = std::move(after.value());
  return Status::Ok();
}

// The payer paid after the packet was closed unpaid (a slow payer, or a lost callback whose
// poll came too late). The money is real and the packet can no longer be claimed, so it is
// taken and refunded in full in the same transaction: closed -> expired with a refund order,
// and the refund worker returns it as it does an expiry remainder (expired -> refunded).
Status AcceptLatePayment(ledger::Tx& tx, const ledger::PacketRecord& packet,
                         const PaymentCallback& cb, int64_t now_ms, PaymentOutcome* out) {
  RP_CHECK(packet.claimed_count == 0 && packet.kind == ledger::PacketKind::kC2c);
  Status s = ledger::Move(tx, packet.packet_id, PacketState::kClosed, PacketState::kExpired,
                          "late_payment", now_ms);
  if (!s.ok()) return s;
  s = RecordPayment(tx, packet.packet_id, cb, now_ms);
  if (!s.ok()) return s;
  s = OrderRefund(tx, packet.packet_id, packet.total_cents, "", "late_payment", now_ms);
  if (!s.ok()) return s;
  out->duplicate = false;
  out->refunded_late = true;
  return Reload(tx, packet.packet_id, out);
}

// A callback for a pay order the ledger already recorded: the same outcome is a harmless
// duplicate, another one a conflict.
Status Replayed(const ledger::PaymentRecord& prior, const PaymentCallback& cb,
                ledger::PacketRecord packet, PaymentOutcome* out) {
  if (prior.status != cb.status || prior.amount_cents != cb.amount_cents) {
    return {Error::kPaymentConflict,
            "pay order " + cb.pay_order_no + " was already reported with another outcome"};
  }
  out->packet = std::move(packet);
  out->duplicate = true;
  return Status::Ok();
}

}  // namespace

Status PaymentTx(ledger::Tx& tx, const PaymentCallback& cb, int64_t now_ms, PaymentOutcome* out) {
  const Status unknown{Error::kPayOrderNotFound, "unknown pay_order_no " + cb.pay_order_no};
  std::optional<int64_t> id = PacketOfPayOrder(cb.pay_order_no);
  if (!id) return unknown;
  // Locked: the callback, the poller and the expiry scan decide on this packet's state; on a
  // row-locking ledger the later of two waits here and then sees the earlier's payment.
  Result<ledger::PacketRecord> packet =
      ledger::packets::Load(tx, *id, ledger::packets::Lock::kForUpdate);
  if (!packet.ok() || packet->pay_order_no != cb.pay_order_no) return unknown;
  Result<std::optional<ledger::PaymentRecord>> prior = ledger::payments::Find(tx, cb.pay_order_no);
  if (!prior.ok()) return prior.status();
  if (*prior) return Replayed(**prior, cb, std::move(packet.value()), out);
  if (cb.status == PaymentStatus::kPaid && cb.amount_cents != packet->total_cents) {
    return {Error::kAmountMismatch, "paid " + std::to_string(cb.amount_cents) +
                                        " cents for a packet of " +
                                        std::to_string(packet->total_cents)};
  }
  if (packet->state == PacketState::kClosed && cb.status == PaymentStatus::kPaid) {
    return AcceptLatePayment(tx, *packet, cb, now_ms, out);
  }
  if (packet->state != PacketState::kAwaitingPayment) {
    return {Error::kPacketClosed, "packet " + std::to_string(*id) + " is " +
                                      std::string(ledger::Name(packet->state)) +
                                      " and no longer accepts payment"};
  }
  const bool paid = cb.status == PaymentStatus::kPaid;
  Status s = ledger::Move(tx, *id, PacketState::kAwaitingPayment,
                          paid ? PacketState::kActive : PacketState::kClosed,
                          paid ? "payment_paid" : "payment_failed", now_ms);
  if (!s.ok()) return s;
  s = RecordPayment(tx, *id, cb, now_ms);
  if (!s.ok()) return s;
  out->duplicate = false;
  return Reload(tx, *id, out);
}

Status OrderRefund(ledger::Tx& tx, int64_t packet_id, int64_t amount_cents,
                   const std::string& subsidy_id, std::string_view cause, int64_t now_ms) {
  RP_CHECK(amount_cents > 0);
  Result<int64_t> refund_id = ledger::refunds::Insert(
      tx, {0, packet_id, RefundNo(packet_id), amount_cents, ledger::RefundState::kPending}, now_ms);
  if (!refund_id.ok()) return refund_id.status();
  Status s = ledger::RecordCreated(tx, *refund_id, ledger::RefundState::kPending, cause, now_ms);
  if (!s.ok()) return s;
  const nlohmann::json payload = subsidy_id.empty()
                                     ? nlohmann::json{{"pay_order_no", PayOrderNo(packet_id)}}
                                     : nlohmann::json{{"subsidy_id", subsidy_id}};
  return ledger::outbox::Enqueue(
      tx,
      {ledger::TaskKind::kRefund, RefundNo(packet_id), *refund_id, amount_cents, payload.dump()},
      now_ms);
}

}  // namespace rp::core
