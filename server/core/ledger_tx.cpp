#include "server/core/ledger_tx.h"

#include <spdlog/spdlog.h>

#include <nlohmann/json.hpp>

#include "common/check.h"

namespace rp::core {

Result<PacketRow> LoadPacket(sql::Db& db, int64_t packet_id) {
  sql::Stmt& q = db.Prepare(
      "SELECT packet_id, kind, sender_id, order_no, request_hash, COALESCE(pay_order_no, ''), "
      "status, total_cents, count, split, claimed_count, claimed_cents, created_at_ms, "
      "expires_at_ms, share_cap_cents FROM packets WHERE packet_id = ?");
  q.Bind(1, packet_id);
  if (!q.Step()) {
    if (!q.status().ok()) return q.status();
    return NotFound("packet_not_found", "no packet " + std::to_string(packet_id));
  }
  PacketRow p;
  p.packet_id = q.Int(0);
  p.kind = q.Text(1);
  p.sender_id = q.Int(2);
  p.order_no = q.Text(3);
  p.request_hash = q.Text(4);
  p.pay_order_no = q.Text(5);
  p.status = q.Text(6);
  p.total_cents = q.Int(7);
  p.count = q.Int(8);
  p.split = q.Text(9);
  p.claimed_count = q.Int(10);
  p.claimed_cents = q.Int(11);
  p.created_at_ms = q.Int(12);
  p.expires_at_ms = q.Int(13);
  p.share_cap_cents = q.Int(14);
  q.Reset();
  RP_CHECK(p.claimed_cents >= 0 && p.claimed_cents <= p.total_cents);
  RP_CHECK(p.claimed_count >= 0 && p.claimed_count <= p.count);
  RP_CHECK(PacketMachine().IsState(p.status));
  return p;
}

Status RecordTransition(sql::Db& db, const StateMachine& machine, int64_t entity_id,
                        std::string_view from, std::string_view to, std::string_view cause,
                        int64_t now_ms) {
  if (!machine.Allows(from, to)) {
    CountIllegalTransition();
    spdlog::warn("illegal {} transition rejected: id={} {} -> {} ({})", machine.entity(), entity_id,
                 from.empty() ? "(new)" : from, to, cause);
    return Conflict("illegal_transition", std::string(machine.entity()) + " cannot move from " +
                                              std::string(from) + " to " + std::string(to));
  }
  sql::Stmt& ins = db.Prepare(
      "INSERT INTO events (entity, entity_id, from_state, to_state, cause, at_ms) "
      "VALUES (?, ?, ?, ?, ?, ?)");
  ins.Bind(1, machine.entity()).Bind(2, entity_id).Bind(3, from).Bind(4, to).Bind(5, cause);
  ins.Bind(6, now_ms);
  ins.Step();
  return ins.status();
}

Status MovePacket(sql::Db& db, int64_t packet_id, std::string_view from, std::string_view to,
                  std::string_view cause, int64_t now_ms) {
  Status s = RecordTransition(db, PacketMachine(), packet_id, from, to, cause, now_ms);
  if (!s.ok()) return s;
  sql::Stmt& up = db.Prepare(
      "UPDATE packets SET status = ?, updated_at_ms = ? WHERE packet_id = ? AND status = ?");
  up.Bind(1, to).Bind(2, now_ms).Bind(3, packet_id).Bind(4, from);
  up.Step();
  if (!up.status().ok()) return up.status();
  if (db.Changes() != 1) {
    return Conflict("state_changed",
                    "packet " + std::to_string(packet_id) + " is no longer " + std::string(from));
  }
  return Status::Ok();
}

Status EnqueueTask(sql::Db& db, std::string_view kind, std::string_view order_no, int64_t ref_id,
                   int64_t amount_cents, std::string_view payload, int64_t now_ms) {
  sql::Stmt& ins = db.Prepare(
      "INSERT INTO outbox (kind, order_no, ref_id, amount_cents, payload, status, "
      "next_attempt_ms, created_at_ms, updated_at_ms) VALUES (?, ?, ?, ?, ?, 'pending', ?, ?, ?)");
  ins.Bind(1, kind).Bind(2, order_no).Bind(3, ref_id).Bind(4, amount_cents).Bind(5, payload);
  ins.Bind(6, now_ms).Bind(7, now_ms).Bind(8, now_ms);
  ins.Step();
  return ins.status();
}

std::string TransferNo(int64_t claim_id) {
  return "TR" + std::to_string(claim_id);
}
std::string RefundNo(int64_t packet_id) {
  return "RF" + std::to_string(packet_id);
}
std::string PayOrderNo(int64_t packet_id) {
  return "PAY" + std::to_string(packet_id);
}

Status OrderRefund(sql::Db& db, int64_t packet_id, int64_t amount_cents,
                   const std::string& subsidy_id, std::string_view cause, int64_t now_ms) {
  RP_CHECK(amount_cents > 0);
  sql::Stmt& ins = db.Prepare(
      "INSERT INTO refunds (packet_id, refund_no, amount_cents, status, created_at_ms, "
      "updated_at_ms) VALUES (?, ?, ?, ?, ?, ?)");
  ins.Bind(1, packet_id).Bind(2, RefundNo(packet_id)).Bind(3, amount_cents);
  ins.Bind(4, refund_state::kPending).Bind(5, now_ms).Bind(6, now_ms);
  ins.Step();
  if (!ins.status().ok()) return ins.status();
  const int64_t refund_id = db.LastInsertRowId();
  Status s =
      RecordTransition(db, RefundMachine(), refund_id, "", refund_state::kPending, cause, now_ms);
  if (!s.ok()) return s;
  const nlohmann::json payload = subsidy_id.empty()
                                     ? nlohmann::json{{"pay_order_no", PayOrderNo(packet_id)}}
                                     : nlohmann::json{{"subsidy_id", subsidy_id}};
  return EnqueueTask(db, "refund", RefundNo(packet_id), refund_id, amount_cents, payload.dump(),
                     now_ms);
}

}  // namespace rp::core
