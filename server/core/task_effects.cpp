#include "server/core/task_effects.h"

#include "server/ledger/claims.h"
#include "server/ledger/outbox.h"
#include "server/ledger/refunds.h"
#include "server/ledger/state.h"

namespace rp::core {
namespace {

using ledger::ClaimState;
using ledger::RefundState;
using ledger::TaskKind;

// Moves the claim to `to` if its table allows it from where it is; already there, or past it
// (transferred), is fine: completions are idempotent.
Status AdvanceClaim(ledger::Tx& tx, int64_t claim_id, ClaimState to, std::string_view cause,
                    int64_t now_ms) {
  Result<ledger::ClaimRecord> c = ledger::claims::Load(tx, claim_id);
  if (!c.ok()) return c.status();
  if (c->state == to || !ledger::Allowed(c->state, to)) return Status::Ok();
  return ledger::Move(tx, claim_id, c->state, to, cause, now_ms);
}

Status AdvanceRefund(ledger::Tx& tx, int64_t refund_id, RefundState to, std::string_view cause,
                     int64_t now_ms) {
  Result<ledger::RefundRecord> r = ledger::refunds::Load(tx, refund_id);
  if (!r.ok()) return r.status();
  if (r->state == to || !ledger::Allowed(r->state, to)) return Status::Ok();
  Status s = ledger::Move(tx, refund_id, r->state, to, cause, now_ms);
  if (!s.ok() || to != RefundState::kRefunded) return s;
  // The refund is paid: the expired packet is now refunded.
  return ledger::Move(tx, r->packet_id, ledger::PacketState::kExpired,
                      ledger::PacketState::kRefunded, "refund_paid", now_ms);
}

}  // namespace

Status CompleteTaskTx(ledger::Tx& tx, const ledger::TaskRecord& t, int64_t now_ms) {
  Result<bool> marked = ledger::outbox::MarkDone(tx, t.task_id, now_ms);
  if (!marked.ok()) return marked.status();
  if (!*marked) return Status::Ok();  // Completed by another worker already.
  if (t.kind == TaskKind::kTransfer) {
    return AdvanceClaim(tx, t.ref_id, ClaimState::kTransferred, "async_transfer", now_ms);
  }
  if (t.kind == TaskKind::kRefund) {
    return AdvanceRefund(tx, t.ref_id, RefundState::kRefunded, "async_refund", now_ms);
  }
  return Status::Ok();  // A payment task's effect was applied by PaymentTx.
}

Status RetryTaskTx(ledger::Tx& tx, const ledger::TaskRecord& t, int64_t next_attempt_ms,
                   const std::string& error, int64_t failed_after, int64_t now_ms) {
  Status s = ledger::outbox::Reschedule(tx, t.task_id, next_attempt_ms, error, t.attempts, now_ms);
  if (!s.ok() || t.attempts < failed_after) return s;
  if (t.kind == TaskKind::kTransfer) {
    return AdvanceClaim(tx, t.ref_id, ClaimState::kTransferFailed, "async_transfer", now_ms);
  }
  if (t.kind == TaskKind::kRefund) {
    return AdvanceRefund(tx, t.ref_id, RefundState::kFailed, "async_refund", now_ms);
  }
  return Status::Ok();
}

}  // namespace rp::core
