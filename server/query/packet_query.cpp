#include "server/query/packet_query.h"

#include "server/ledger/claims.h"
#include "server/ledger/packets.h"

namespace rp::query {

Result<ledger::PacketRecord> GetPacket(ledger::Engine& ledger, int64_t packet_id) {
  Result<ledger::PacketRecord> p = Status(Error::kInternal, "not read");
  Status s = ledger.Read([&](ledger::ReadTx& tx) {
    p = ledger::packets::Load(tx, packet_id);
    return p.status();
  });
  if (!s.ok()) return s;
  return p;
}

Result<ClaimsPage> ListClaims(ledger::Engine& ledger, int64_t packet_id, int64_t after_seq,
                              int limit) {
  ClaimsPage page;
  Status s = ledger.Read([&](ledger::ReadTx& tx) {
    Result<ledger::PacketRecord> p = ledger::packets::Load(tx, packet_id);
    if (!p.ok()) return p.status();
    if (p->state == ledger::PacketState::kFinished) {
      Result<std::optional<int64_t>> best = ledger::claims::BestLuck(tx, packet_id);
      if (!best.ok()) return best.status();
      page.best_luck_claim_id = *best;
    }
    Result<ledger::claims::Page> claims = ledger::claims::List(tx, packet_id, after_seq, limit);
    if (!claims.ok()) return claims.status();
    page.claims = std::move(claims->claims);
    if (claims->more) page.next_cursor = page.claims.back().seq;
    return Status::Ok();
  });
  if (!s.ok()) return s;
  return page;
}

}  // namespace rp::query
