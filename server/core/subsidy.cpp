#include "server/core/subsidy.h"

#include "common/check.h"
#include "server/core/ledger_tx.h"
#include "server/core/state_machine.h"

namespace rp::core {
namespace {

const char* kSubsidyColumns =
    "SELECT subsidy_id, user_id, round, amount_cents, expires_at_ms, state, "
    "COALESCE(packet_id, 0), updated_at_ms FROM subsidies ";

SubsidyRow ReadRow(sql::Stmt& q) {
  return {{q.Text(0), q.Int(1), q.Text(2), q.Int(3), q.Int(4)}, q.Text(5), q.Int(6), q.Int(7)};
}

Result<SubsidyRow> LoadSubsidy(sql::Db& db, const std::string& subsidy_id) {
  sql::Stmt& q = db.Prepare(std::string(kSubsidyColumns) + "WHERE subsidy_id = ?");
  q.Bind(1, subsidy_id);
  if (!q.Step()) {
    if (!q.status().ok()) return q.status();
    return NotFound("subsidy_not_found", "no subsidy " + subsidy_id);
  }
  SubsidyRow row = ReadRow(q);
  q.Reset();
  return row;
}

Status MoveSubsidy(sql::Db& db, const std::string& subsidy_id, std::string_view from,
                   std::string_view to, int64_t packet_id, std::string_view cause, int64_t now_ms) {
  // The events table keys entities by integer; subsidies are keyed by their packet here.
  Status s = RecordTransition(db, SubsidyMachine(), packet_id, from, to, cause, now_ms);
  if (!s.ok()) return s;
  sql::Stmt& up = db.Prepare(
      "UPDATE subsidies SET state = ?, updated_at_ms = ? WHERE subsidy_id = ? AND state = ?");
  up.Bind(1, to).Bind(2, now_ms).Bind(3, subsidy_id).Bind(4, from);
  up.Step();
  if (!up.status().ok()) return up.status();
  if (db.Changes() != 1) return Conflict("state_changed", "subsidy " + subsidy_id + " moved");
  return Status::Ok();
}

}  // namespace

std::string TccTxId(int64_t packet_id) {
  return "PKT" + std::to_string(packet_id);
}

Status RecordSubsidyTx(sql::Db& db, const SubsidyGrant& g, std::string_view source,
                       int64_t now_ms) {
  RP_CHECK(g.amount_cents > 0 && g.user_id > 0);
  sql::Stmt& ins = db.Prepare(
      "INSERT INTO subsidies (subsidy_id, user_id, round, amount_cents, expires_at_ms, state, "
      "source, created_at_ms, updated_at_ms) VALUES (?, ?, ?, ?, ?, 'recorded', ?, ?, ?) "
      "ON CONFLICT (subsidy_id) DO NOTHING");
  ins.Bind(1, g.subsidy_id).Bind(2, g.user_id).Bind(3, g.round).Bind(4, g.amount_cents);
  ins.Bind(5, g.expires_at_ms).Bind(6, source).Bind(7, now_ms).Bind(8, now_ms);
  ins.Step();
  return ins.status();
}

Status BeginB2cSendTx(sql::Db& db, const SendRequest& req, const SubsidyGrant& g, int64_t sender_id,
                      int64_t share_cap_cents, int64_t now_ms, int64_t ttl_ms, B2cSend* out) {
  Status s = FindReplay(db, req, sender_id, &out->send);
  if (!s.ok()) return s;
  if (out->send.replay) {
    Result<SubsidyRow> row = LoadSubsidy(db, g.subsidy_id);
    if (!row.ok()) return row.status();
    out->subsidy_state = row->state;
    return Status::Ok();
  }
  if (g.user_id != sender_id) {
    return Status(Code::kPermissionDenied, "foreign_subsidy",
                  "the subsidy belongs to another user");
  }
  if (g.amount_cents != req.total_cents) {
    return InvalidArgument("amount_mismatch", "total_cents must equal the subsidy's amount (" +
                                                  std::to_string(g.amount_cents) + ")");
  }
  s = RecordSubsidyTx(db, g, "use", now_ms);
  if (!s.ok()) return s;
  Result<SubsidyRow> row = LoadSubsidy(db, g.subsidy_id);
  if (!row.ok()) return row.status();
  if (row->packet_id != 0 || row->state != subsidy_state::kRecorded) {
    return Conflict("subsidy_used", "subsidy " + g.subsidy_id + " already funds a packet");
  }
  Result<int64_t> packet_id = InsertPacket(db, req, sender_id, share_cap_cents, now_ms, ttl_ms);
  if (!packet_id.ok()) return packet_id.status();
  sql::Stmt& link = db.Prepare("UPDATE packets SET subsidy_id = ? WHERE packet_id = ?");
  link.Bind(1, g.subsidy_id).Bind(2, *packet_id);
  link.Step();
  if (!link.status().ok()) return link.status();
  sql::Stmt& use = db.Prepare("UPDATE subsidies SET packet_id = ? WHERE subsidy_id = ?");
  use.Bind(1, *packet_id).Bind(2, g.subsidy_id);
  use.Step();
  if (!use.status().ok()) return use.status();
  s = MoveSubsidy(db, g.subsidy_id, subsidy_state::kRecorded, subsidy_state::kTrying, *packet_id,
                  "send", now_ms);
  if (!s.ok()) return s;
  Result<PacketRow> packet = LoadPacket(db, *packet_id);
  if (!packet.ok()) return packet.status();
  out->send.packet = std::move(packet.value());
  out->subsidy_state = std::string(subsidy_state::kTrying);
  return Status::Ok();
}

Status SettleB2cTx(sql::Db& db, int64_t packet_id, bool accepted, int64_t now_ms, PacketRow* out) {
  Result<PacketRow> packet = LoadPacket(db, packet_id);
  if (!packet.ok()) return packet.status();
  sql::Stmt& q = db.Prepare("SELECT subsidy_id FROM packets WHERE packet_id = ?");
  q.Bind(1, packet_id);
  if (!q.Step()) return q.status().ok() ? NotFound("packet_not_found", "") : q.status();
  const std::string subsidy_id = q.Text(0);
  q.Reset();
  Result<SubsidyRow> row = LoadSubsidy(db, subsidy_id);
  if (!row.ok()) return row.status();
  if (row->state == subsidy_state::kTrying) {
    const std::string_view to = accepted ? subsidy_state::kConfirming : subsidy_state::kReleased;
    Status s = MoveSubsidy(db, subsidy_id, subsidy_state::kTrying, to, packet_id,
                           accepted ? "tcc_try_ok" : "tcc_try_refused", now_ms);
    if (!s.ok()) return s;
    s = MovePacket(db, packet_id, packet_state::kAwaitingPayment,
                   accepted ? packet_state::kActive : packet_state::kClosed,
                   accepted ? "subsidy_frozen" : "subsidy_refused", now_ms);
    if (!s.ok()) return s;
  }
  Result<PacketRow> after = LoadPacket(db, packet_id);
  if (!after.ok()) return after.status();
  *out = std::move(after.value());
  return Status::Ok();
}

Status ConfirmedSubsidyTx(sql::Db& db, const std::string& subsidy_id, int64_t now_ms) {
  Result<SubsidyRow> row = LoadSubsidy(db, subsidy_id);
  if (!row.ok()) return row.status();
  if (row->state != subsidy_state::kConfirming) return Status::Ok();
  return MoveSubsidy(db, subsidy_id, subsidy_state::kConfirming, subsidy_state::kUsed,
                     row->packet_id, "tcc_confirm_ok", now_ms);
}

Status ListSubsidiesOfUser(sql::Db& db, int64_t user_id, std::vector<SubsidyRow>* out) {
  sql::Stmt& q = db.Prepare(std::string(kSubsidyColumns) + "WHERE user_id = ? LIMIT 1000");
  q.Bind(1, user_id);
  while (q.Step()) out->push_back(ReadRow(q));
  return q.status();
}

Status ListSubsidiesInState(sql::Db& db, std::string_view state, int64_t before_ms, int limit,
                            std::vector<SubsidyRow>* out) {
  sql::Stmt& q =
      db.Prepare(std::string(kSubsidyColumns) +
                 "WHERE state = ? AND updated_at_ms <= ? ORDER BY updated_at_ms LIMIT ?");
  q.Bind(1, state).Bind(2, before_ms).Bind(3, limit);
  while (q.Step()) out->push_back(ReadRow(q));
  return q.status();
}

}  // namespace rp::core
