#include "server/core/subsidy.h"

#include "common/check.h"
#include "server/ledger/packets.h"
#include "server/ledger/state.h"
#include "server/ledger/subsidies.h"

namespace rp::core {
namespace {

using ledger::PacketState;
using ledger::SubsidyState;

// Links the subsidy to a new packet and moves it recorded -> trying.
Status Fund(ledger::Tx& tx, const SendRequest& req, const SubsidyGrant& g, int64_t sender_id,
            int64_t share_cap_cents, int64_t now_ms, int64_t ttl_ms, B2cSend* out) {
  Result<int64_t> packet_id = InsertPacket(tx, req, sender_id, share_cap_cents, now_ms, ttl_ms);
  if (!packet_id.ok()) return packet_id.status();
  Status s = ledger::packets::SetSubsidy(tx, *packet_id, g.subsidy_id);
  if (!s.ok()) return s;
  s = ledger::subsidies::LinkPacket(tx, g.subsidy_id, *packet_id);
  if (!s.ok()) return s;
  s = ledger::Move(tx, g.subsidy_id, *packet_id, SubsidyState::kRecorded, SubsidyState::kTrying,
                   "send", now_ms);
  if (!s.ok()) return s;
  Result<ledger::PacketRecord> packet = ledger::packets::Load(tx, *packet_id);
  if (!packet.ok()) return packet.status();
  out->send.packet = std::move(packet.value());
  out->subsidy_state = SubsidyState::kTrying;
  return Status::Ok();
}

}  // namespace

Status RecordSubsidyTx(ledger::Tx& tx, const SubsidyGrant& g, std::string_view source,
                       int64_t now_ms) {
  RP_CHECK(g.amount_cents > 0 && g.user_id > 0);
  ledger::SubsidyRecord r{
      g.subsidy_id, g.user_id, g.round, g.amount_cents, g.expires_at_ms, SubsidyState::kRecorded, 0,
      now_ms};
  return ledger::subsidies::InsertIfAbsent(tx, r, source, now_ms);
}

Status BeginB2cSendTx(ledger::Tx& tx, const SendRequest& req, const SubsidyGrant& g,
                      int64_t sender_id, int64_t share_cap_cents, int64_t now_ms, int64_t ttl_ms,
                      B2cSend* out) {
  Status s = FindReplay(tx, req, sender_id, &out->send);
  if (!s.ok()) return s;
  if (out->send.replay) {
    Result<ledger::SubsidyRecord> row = ledger::subsidies::Load(tx, g.subsidy_id);
    if (!row.ok()) return row.status();
    out->subsidy_state = row->state;
    return Status::Ok();
  }
  if (g.user_id != sender_id) {
    return {Error::kForeignSubsidy, "the subsidy belongs to another user"};
  }
  if (g.amount_cents != req.total_cents) {
    return {Error::kSubsidyAmountMismatch,
            "total_cents must equal the subsidy's amount (" + std::to_string(g.amount_cents) + ")"};
  }
  s = RecordSubsidyTx(tx, g, "use", now_ms);
  if (!s.ok()) return s;
  Result<ledger::SubsidyRecord> row = ledger::subsidies::Load(tx, g.subsidy_id);
  if (!row.ok()) return row.status();
  if (row->packet_id != 0 || row->state != SubsidyState::kRecorded) {
    return {Error::kSubsidyUsed, "subsidy " + g.subsidy_id + " already funds a packet"};
  }
  return Fund(tx, req, g, sender_id, share_cap_cents, now_ms, ttl_ms, out);
}

Status SettleB2cTx(ledger::Tx& tx, int64_t packet_id, bool accepted, int64_t now_ms,
                   ledger::PacketRecord* out) {
  // Locked: settling decides on the subsidy's state, which a retried settle may race.
  Result<ledger::PacketRecord> packet =
      ledger::packets::Load(tx, packet_id, ledger::packets::Lock::kForUpdate);
  if (!packet.ok()) return packet.status();
  Result<ledger::SubsidyRecord> row = ledger::subsidies::Load(tx, packet->subsidy_id);
  if (!row.ok()) return row.status();
  if (row->state == SubsidyState::kTrying) {
    Status s = ledger::Move(tx, row->subsidy_id, packet_id, SubsidyState::kTrying,
                            accepted ? SubsidyState::kConfirming : SubsidyState::kReleased,
                            accepted ? "tcc_try_ok" : "tcc_try_refused", now_ms);
    if (!s.ok()) return s;
    s = ledger::Move(tx, packet_id, PacketState::kAwaitingPayment,
                     accepted ? PacketState::kActive : PacketState::kClosed,
                     accepted ? "subsidy_frozen" : "subsidy_refused", now_ms);
    if (!s.ok()) return s;
  }
  Result<ledger::PacketRecord> after = ledger::packets::Load(tx, packet_id);
  if (!after.ok()) return after.status();
  *out = std::move(after.value());
  return Status::Ok();
}

Status ConfirmedSubsidyTx(ledger::Tx& tx, const std::string& subsidy_id, int64_t now_ms) {
  Result<ledger::SubsidyRecord> row = ledger::subsidies::Load(tx, subsidy_id);
  if (!row.ok()) return row.status();
  if (row->state != SubsidyState::kConfirming) return Status::Ok();
  return ledger::Move(tx, subsidy_id, row->packet_id, SubsidyState::kConfirming,
                      SubsidyState::kUsed, "tcc_confirm_ok", now_ms);
}

}  // namespace rp::core
