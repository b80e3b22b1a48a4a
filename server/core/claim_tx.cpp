#include "server/core/claim_tx.h"

#include "common/check.h"
#include "server/core/ledger_tx.h"
#include "server/core/split.h"
#include "server/core/state_machine.h"

namespace rp::core {
namespace {

// The user's existing claim on this packet, if any.
bool FindClaim(sql::Db& db, int64_t packet_id, int64_t user_id, ClaimOutcome* out, Status* s) {
  sql::Stmt& q = db.Prepare(
      "SELECT claim_id, amount_cents, claimed_at_ms, status FROM claims "
      "WHERE packet_id = ? AND user_id = ?");
  q.Bind(1, packet_id).Bind(2, user_id);
  if (!q.Step()) {
    *s = q.status();
    return false;
  }
  *out = {q.Int(0), packet_id, user_id, q.Int(1), q.Int(2), q.Text(3), true};
  q.Reset();
  return true;
}

Status CheckClaimable(const PacketRow& p, int64_t now_ms) {
  using namespace packet_state;
  if (p.status == kAwaitingPayment || p.status == kClosed) {
    return Conflict("not_claimable", "packet is " + p.status + ", not open for claims");
  }
  if (p.status == kExpired || p.status == kRefunded || now_ms >= p.expires_at_ms) {
    return Gone("expired", "packet expired");
  }
  if (p.status == kFinished || p.remaining_count() == 0) {
    return Conflict("sold_out", "every share of this packet has been claimed");
  }
  RP_CHECK(p.status == kActive);
  return Status::Ok();
}

Status InsertClaim(sql::Db& db, const PacketRow& p, int64_t user_id, int64_t amount, int64_t now_ms,
                   int64_t* claim_id) {
  sql::Stmt& ins = db.Prepare(
      "INSERT INTO claims (packet_id, user_id, seq, amount_cents, status, claimed_at_ms, "
      "updated_at_ms) VALUES (?, ?, ?, ?, ?, ?, ?)");
  ins.Bind(1, p.packet_id).Bind(2, user_id).Bind(3, p.claimed_count + 1).Bind(4, amount);
  ins.Bind(5, claim_state::kTransferPending).Bind(6, now_ms).Bind(7, now_ms);
  ins.Step();
  if (!ins.status().ok()) return ins.status();
  *claim_id = db.LastInsertRowId();
  Status s = RecordTransition(db, ClaimMachine(), *claim_id, "", claim_state::kTransferPending,
                              "claim", now_ms);
  if (!s.ok()) return s;
  // The transfer order, in the same transaction: a committed claim always has exactly one.
  return EnqueueTask(db, "transfer", TransferNo(*claim_id), *claim_id, amount,
                     "{\"user_id\":" + std::to_string(user_id) + "}", now_ms);
}

}  // namespace

Status ClaimTx(sql::Db& db, int64_t packet_id, int64_t user_id, int64_t now_ms,
               std::mt19937_64& rng, ClaimOutcome* out, const ShareSource* source) {
  Result<PacketRow> loaded = LoadPacket(db, packet_id);
  if (!loaded.ok()) return loaded.status();
  const PacketRow& p = *loaded;
  Status s;
  if (FindClaim(db, packet_id, user_id, out, &s)) return Status::Ok();
  if (!s.ok()) return s;
  s = CheckClaimable(p, now_ms);
  if (!s.ok()) return s;

  int64_t amount = 0;
  if (source != nullptr) {
    Result<int64_t> taken = (*source)(db, p, user_id);
    if (!taken.ok()) return taken.status();
    amount = *taken;
    RP_CHECK(amount >= 1 && amount <= p.share_cap_cents && amount <= p.remaining_cents());
    RP_CHECK(p.remaining_cents() - amount >= p.remaining_count() - 1);
  } else {
    const Split split = p.split == "even" ? Split::kEven : Split::kRandom;
    amount = DrawShare(split, p.remaining_cents(), p.remaining_count(), p.share_cap_cents, rng);
  }
  int64_t claim_id = 0;
  s = InsertClaim(db, p, user_id, amount, now_ms, &claim_id);
  if (!s.ok()) return s;

  sql::Stmt& up = db.Prepare(
      "UPDATE packets SET claimed_count = claimed_count + 1, claimed_cents = claimed_cents + ?, "
      "updated_at_ms = ? WHERE packet_id = ? AND claimed_count = ? AND status = 'active'");
  up.Bind(1, amount).Bind(2, now_ms).Bind(3, packet_id).Bind(4, p.claimed_count);
  up.Step();
  if (!up.status().ok()) return up.status();
  RP_CHECK(db.Changes() == 1);  // We hold the write transaction: nobody else can have moved it.
  if (p.remaining_count() == 1) {
    RP_CHECK(amount == p.remaining_cents());
    s = MovePacket(db, packet_id, packet_state::kActive, packet_state::kFinished, "sold_out",
                   now_ms);
    if (!s.ok()) return s;
  }
  *out = {claim_id, packet_id, user_id, amount, now_ms, std::string(claim_state::kTransferPending),
          false};
  return Status::Ok();
}

}  // namespace rp::core
