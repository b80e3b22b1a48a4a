#include "server/core/claim_tx.h"

#include <map>

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
                       ShareRng& rng, const ShareSource* source) {
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

namespace {

// Records claimer user_id's win of `amount` against *p: the claim row, its event and transfer
// order, the outcome, and *p updated in memory (the packet row itself is written by the
// caller, once for all its claims). A failure may leave rows half written: the transaction (or
// savepoint) must not commit.
Status RecordWin(ledger::Tx& tx, ledger::PacketRecord* p, int64_t user_id, int64_t amount,
                 int64_t now_ms, ClaimOutcome* out) {
  if (p->remaining_count() == 1) RP_CHECK(amount == p->remaining_cents());
  Result<int64_t> claim_id = InsertClaim(tx, *p, user_id, amount, now_ms);
  if (!claim_id.ok()) return claim_id.status();
  out->claim = {*claim_id, p->packet_id,
                user_id,   p->claimed_count + 1,
                amount,    ledger::ClaimState::kTransferPending,
                now_ms};
  out->repeat = false;
  p->claimed_count += 1;
  p->claimed_cents += amount;
  return Status::Ok();
}

// One claimer against the packet as this transaction sees it: the repeat lookup, the checks,
// the draw, and the win recorded.
Status ClaimAgainst(ledger::Tx& tx, ledger::PacketRecord* p, int64_t user_id, int64_t now_ms,
                    ShareRng& rng, ClaimOutcome* out, const ShareSource* source) {
  Result<std::optional<ledger::ClaimRecord>> mine = ledger::claims::Find(tx, p->packet_id, user_id);
  if (!mine.ok()) return mine.status();
  if (*mine) {
    *out = {**mine, true, std::nullopt};
    return Status::Ok();
  }
  Status s = CheckClaimable(*p, now_ms);
  if (!s.ok()) return s;
  Result<int64_t> amount = Amount(tx, *p, user_id, rng, source);
  if (!amount.ok()) return amount.status();
  return RecordWin(tx, p, user_id, *amount, now_ms, out);
}

// Writes what the claims took from the packet (as read: `before` claims) and finishes it when
// the last share went.
Status Record(ledger::Tx& tx, const ledger::PacketRecord& after, int64_t before, int64_t now_ms,
              int64_t cents) {
  const int64_t won = after.claimed_count - before;
  if (won == 0) return Status::Ok();
  Status s = ledger::packets::AddClaims(tx, after.packet_id, won, cents, before, now_ms);
  if (!s.ok()) return s;
  if (after.remaining_count() == 0) {
    RP_CHECK(after.remaining_cents() == 0);
    s = ledger::Move(tx, after.packet_id, PacketState::kActive, PacketState::kFinished, "sold_out",
                     now_ms);
  }
  return s;
}

}  // namespace

Status ClaimTx(ledger::Tx& tx, int64_t packet_id, int64_t user_id, int64_t now_ms, ShareRng& rng,
               ClaimOutcome* out, const ShareSource* source) {
  Result<ledger::PacketRecord> loaded =
      ledger::packets::Load(tx, packet_id, ledger::packets::Lock::kForUpdate);
  if (!loaded.ok()) return loaded.status();
  ledger::PacketRecord p = std::move(loaded.value());
  const int64_t before = p.claimed_count, cents_before = p.claimed_cents;
  Status s = ClaimAgainst(tx, &p, user_id, now_ms, rng, out, source);
  if (!s.ok()) return s;
  return Record(tx, p, before, now_ms, p.claimed_cents - cents_before);
}

Status ClaimOnSeenTx(ledger::Tx& tx, const ledger::PacketRecord& seen, int64_t user_id,
                     int64_t now_ms, ShareRng& rng, ClaimOutcome* out,
                     ledger::PacketRecord* after) {
  Status s = CheckClaimable(seen, now_ms);
  if (!s.ok()) return s;
  Result<int64_t> amount = Amount(tx, seen, user_id, rng, nullptr);
  if (!amount.ok()) return amount.status();
  *after = seen;
  s = RecordWin(tx, after, user_id, *amount, now_ms, out);
  if (!s.ok()) return s;
  // The guarded update last: Conflict(state_changed) unless the packet still has seen's claims.
  s = Record(tx, *after, seen.claimed_count, now_ms, *amount);
  // *after is the packet as written, its state too: the last share finished it.
  if (s.ok() && after->remaining_count() == 0) after->state = PacketState::kFinished;
  return s;
}

Status ClaimBatchTx(ledger::Tx& tx, int64_t packet_id, const std::vector<int64_t>& user_ids,
                    int64_t now_ms, ShareRng& rng, std::vector<ClaimOutcome>* outcomes,
                    std::vector<Status>* statuses) {
  outcomes->assign(user_ids.size(), ClaimOutcome{});
  statuses->assign(user_ids.size(), Status::Ok());
  Result<ledger::PacketRecord> loaded =
      ledger::packets::Load(tx, packet_id, ledger::packets::Lock::kForUpdate);
  if (!loaded.ok()) return loaded.status();
  // Under the packet's row lock no other transaction can add a claim to it: the repeats read
  // here stay true until commit.
  Result<std::map<int64_t, ledger::ClaimRecord>> known =
      ledger::claims::FindMany(tx, packet_id, user_ids);
  if (!known.ok()) return known.status();
  ledger::PacketRecord p = std::move(loaded.value());
  const int64_t before = p.claimed_count, cents_before = p.claimed_cents;
  for (size_t i = 0; i < user_ids.size(); ++i) {
    ClaimOutcome& out = (*outcomes)[i];
    auto mine = known->find(user_ids[i]);
    if (mine != known->end()) {  // Also a second request of a user who won earlier in the batch.
      out = {mine->second, true, std::nullopt};
      continue;
    }
    // A refusal is decided before anything is written, so it is this claimer's alone.
    Status s = CheckClaimable(p, now_ms);
    Result<int64_t> amount = s.ok() ? Amount(tx, p, user_ids[i], rng, nullptr) : s;
    if (!amount.ok()) {
      (*statuses)[i] = amount.status();
      continue;
    }
    // A failed write fails the whole batch: nothing of it commits and everyone hears why.
    if (Status won = RecordWin(tx, &p, user_ids[i], *amount, now_ms, &out); !won.ok()) return won;
    known->emplace(user_ids[i], out.claim);
  }
  return Record(tx, p, before, now_ms, p.claimed_cents - cents_before);
}

}  // namespace rp::core
