#include "server/core/payment.h"

#include <charconv>

#include "common/check.h"

namespace rp::core {
namespace {

Result<int64_t> PacketIdOf(const std::string& pay_order_no) {
  Status missing = NotFound("pay_order_not_found", "unknown pay_order_no " + pay_order_no);
  if (pay_order_no.rfind("PAY", 0) != 0 || pay_order_no.size() > 22) return missing;
  int64_t id = 0;
  const char* begin = pay_order_no.data() + 3;
  const char* end = pay_order_no.data() + pay_order_no.size();
  auto [ptr, ec] = std::from_chars(begin, end, id);
  if (ec != std::errc() || ptr != end || id <= 0) return missing;
  return id;
}

Status RecordPayment(sql::Db& db, int64_t packet_id, const PaymentCallback& cb, int64_t now_ms) {
  sql::Stmt& ins = db.Prepare(
      "INSERT INTO payments (pay_order_no, packet_id, status, amount_cents, received_at_ms) "
      "VALUES (?, ?, ?, ?, ?)");
  ins.Bind(1, cb.pay_order_no).Bind(2, packet_id).Bind(3, cb.status).Bind(4, cb.amount_cents);
  ins.Bind(5, now_ms);
  ins.Step();
  return ins.status();
}

// The payer paid after the packet was closed unpaid (a slow payer, or a lost callback whose
// poll came too late). The money is real and the packet can no longer be claimed, so it is
// taken and refunded in full in the same transaction: closed -> expired with a refund order,
// and the refund worker returns it as it does an expiry remainder (expired -> refunded).
Status AcceptLatePayment(sql::Db& db, const PacketRow& packet, const PaymentCallback& cb,
                         int64_t now_ms, PaymentOutcome* out) {
  RP_CHECK(packet.claimed_count == 0 && packet.kind == "c2c");  // Closed before any claim.
  Status s = MovePacket(db, packet.packet_id, packet_state::kClosed, packet_state::kExpired,
                        "late_payment", now_ms);
  if (!s.ok()) return s;
  s = RecordPayment(db, packet.packet_id, cb, now_ms);
  if (!s.ok()) return s;
  s = OrderRefund(db, packet.packet_id, packet.total_cents, "", "late_payment", now_ms);
  if (!s.ok()) return s;
  Result<PacketRow> after = LoadPacket(db, packet.packet_id);
  if (!after.ok()) return after.status();
  out->packet = std::move(after.value());
  out->duplicate = false;
  out->refunded_late = true;
  return Status::Ok();
}

}  // namespace

Status PaymentTx(sql::Db& db, const PaymentCallback& cb, int64_t now_ms, PaymentOutcome* out) {
  Result<int64_t> id = PacketIdOf(cb.pay_order_no);
  if (!id.ok()) return id.status();
  Result<PacketRow> packet = LoadPacket(db, *id);
  if (!packet.ok() || packet->pay_order_no != cb.pay_order_no) {
    return NotFound("pay_order_not_found", "unknown pay_order_no " + cb.pay_order_no);
  }
  sql::Stmt& prior = db.Prepare("SELECT status, amount_cents FROM payments WHERE pay_order_no = ?");
  prior.Bind(1, cb.pay_order_no);
  if (prior.Step()) {
    bool same = prior.Text(0) == cb.status && prior.Int(1) == cb.amount_cents;
    prior.Reset();
    if (!same) {
      return Conflict("payment_conflict", "pay order " + cb.pay_order_no +
                                              " was already reported with another outcome");
    }
    out->packet = std::move(packet.value());
    out->duplicate = true;
    return Status::Ok();
  }
  if (!prior.status().ok()) return prior.status();
  if (cb.status == "paid" && cb.amount_cents != packet->total_cents) {
    return Conflict("amount_mismatch", "paid " + std::to_string(cb.amount_cents) +
                                           " cents for a packet of " +
                                           std::to_string(packet->total_cents));
  }
  if (packet->status == packet_state::kClosed && cb.status == "paid") {
    return AcceptLatePayment(db, *packet, cb, now_ms, out);
  }
  if (packet->status != packet_state::kAwaitingPayment) {
    return Conflict("packet_closed", "packet " + std::to_string(*id) + " is " + packet->status +
                                         " and no longer accepts payment");
  }
  const std::string_view to = cb.status == "paid" ? packet_state::kActive : packet_state::kClosed;
  Status s = MovePacket(db, *id, packet_state::kAwaitingPayment, to,
                        cb.status == "paid" ? "payment_paid" : "payment_failed", now_ms);
  if (!s.ok()) return s;
  s = RecordPayment(db, *id, cb, now_ms);
  if (!s.ok()) return s;
  Result<PacketRow> after = LoadPacket(db, *id);
  if (!after.ok()) return after.status();
  out->packet = std::move(after.value());
  out->duplicate = false;
  return Status::Ok();
}

}  // namespace rp::core
