#include "server/core/expiry.h"

#include "common/check.h"
#include "server/core/payment.h"
#include "server/ledger/packets.h"
#include "server/ledger/state.h"

namespace rp::core {

Status ExpireDueTx(ledger::Tx& tx, int64_t now_ms, int limit, ExpiryResult* out) {
  using ledger::PacketState;
  *out = {};
  Result<std::vector<ledger::PacketRecord>> due = ledger::packets::ListDue(tx, now_ms, limit);
  if (!due.ok()) return due.status();
  for (const ledger::PacketRecord& p : *due) {
    Status s;
    if (p.state == PacketState::kActive) {
      // An active packet with nothing left would be finished, not due.
      RP_CHECK(p.remaining_cents() > 0);
      s = ledger::Move(tx, p.packet_id, PacketState::kActive, PacketState::kExpired, "ttl", now_ms);
      if (s.ok())
        s = OrderRefund(tx, p.packet_id, p.remaining_cents(), p.subsidy_id, "ttl", now_ms);
      out->expired += 1;
      out->refund_cents += p.remaining_cents();
    } else {
      s = ledger::Move(tx, p.packet_id, PacketState::kAwaitingPayment, PacketState::kClosed,
                       "unpaid_timeout", now_ms);
      out->closed += 1;
    }
    if (!s.ok()) return s;
  }
  return Status::Ok();
}

}  // namespace rp::core
