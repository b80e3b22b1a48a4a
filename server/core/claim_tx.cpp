#include "server/core/claim_tx.h"

#include "common/check.h"
#include "server/core/order_numbers.h"
#include "server/core/split.h"
#include "server/ledger/claims.h"
#include "server/ledger/outbox.h"
#include "server/ledger/packets.h"
#include "server/ledger/state.h"

namespace rp::core {
namespace {

using ledger::PacketState;

// The claim row, its creation event and its transfer order, in the same transaction: a
// committed claim always has exactly one transfer order.
Result<int64_t> InsertClaim(ledger::Tx& tx, const ledger::PacketRecord& p, int64_t user_id,
                            int64_t amount, int64_t now_ms) {
  ledger::ClaimRecord c{0,       p.packet_id,
                        user_id, p.claimed_count + 1,
                        amount,  ledger::ClaimState::kTransferPending,
                        now_ms};
  Result<int64_t> id = ledger::claims::Insert(tx, c, now_ms);
  if (!id.ok()) return id.status();
  Status s = ledger::RecordCreated(tx, *id, c.state, "claim", now_ms);
  if (!s.ok()) return s;
  s = ledger::outbox::Enqueue(tx,
                              {ledger::TaskKind::kTransfer, TransferNo(*id), *id, amount,
                               "{\"user_id\":" + std::to_string(user_id) + "}"},
                              now_ms);
  if (!s.ok()) return s;
  return id;
}

Result<int64_t> Amount(ledger::Tx& tx, const ledger::PacketRecord& p, int64_t user_id,
                       std::mt19937_64& rng, const ShareSource* source) {
  if (source == nullptr) {
    return DrawShare(p.split, p.remaining_cents(), p.remaining_count(), p.share_cap_cents, rng);
  }
  Result<int64_t> taken = (*source)(tx, p, user_id);
  if (!taken.ok()) return taken.status();
  const int64_t amount = *taken;
  RP_CHECK(amount >= 1 && amount <= p.share_cap_cents && amount <= p.remaining_cents());
  RP_CHECK(p.remaining_cents() - amount >= p.remaining_count() - 1);
  return amount;
}

}  // namespace

Status CheckClaimable(const ledger::PacketRecord& p, int64_t now_ms) {
  if (p.state == PacketState::kAwaitingPayment || p.state == PacketState::kClosed) {
    return {Error::kNotClaimable,
            "packet is " + std::string(ledger::Name(p.state)) + ", not open for claims"};
  }
  if (p.state == PacketState::kExpired || p.state == PacketState::kRefunded ||
      now_ms >= p.expires_at_ms) {
    return {Error::kExpired, "packet expired"};
  }
  if (p.state == PacketState::kFinished || p.remaining_count() == 0) {
    return {Error::kSoldOut, "every share of this packet has been claimed"};
  }
  RP_CHECK(p.state == PacketState::kActive);
  return Status::Ok();
}

Status ClaimTx(ledger::Tx& tx, int64_t packet_id, int64_t user_id, int64_t now_ms,
               std::mt19937_64& rng, ClaimOutcome* out, const ShareSource* source) {
  Result<ledger::PacketRecord> loaded =
      ledger::packets::Load(tx, packet_id, ledger::packets::Lock::kForUpdate);
  if (!loaded.ok()) return loaded.status();
  const ledger::PacketRecord& p = *loaded;
  Result<std::optional<ledger::ClaimRecord>> mine = ledger::claims::Find(tx, packet_id, user_id);
  if (!mine.ok()) return mine.status();
  if (*mine) {
    *out = {**mine, true};
    return Status::Ok();
  }
  Status s = CheckClaimable(p, now_ms);
  if (!s.ok()) return s;
  Result<int64_t> amount = Amount(tx, p, user_id, rng, source);
  if (!amount.ok()) return amount.status();
  Result<int64_t> claim_id = InsertClaim(tx, p, user_id, *amount, now_ms);
  if (!claim_id.ok()) return claim_id.status();
  s = ledger::packets::AddClaim(tx, packet_id, *amount, p.claimed_count, now_ms);
  if (!s.ok()) return s;
  if (p.remaining_count() == 1) {
    RP_CHECK(*amount == p.remaining_cents());
    s = ledger::Move(tx, packet_id, PacketState::kActive, PacketState::kFinished, "sold_out",
                     now_ms);
    if (!s.ok()) return s;
  }
  out->claim = {*claim_id, packet_id,
                user_id,   p.claimed_count + 1,
                *amount,   ledger::ClaimState::kTransferPending,
                now_ms};
  out->repeat = false;
  return Status::Ok();
}

}  // namespace rp::core
