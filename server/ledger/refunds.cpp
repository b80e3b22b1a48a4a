#include "server/ledger/refunds.h"

#include "server/ledger/row_parse.h"

namespace rp::ledger::refunds {
namespace {

const Sql kInsert(
    "INSERT INTO refunds (packet_id, refund_no, amount_cents, status, created_at_ms, "
    "updated_at_ms) VALUES (?, ?, ?, ?, ?, ?) RETURNING refund_id");
const Sql kLoad(
    "SELECT refund_id, packet_id, refund_no, amount_cents, status FROM refunds "
    "WHERE refund_id = ?");

}  // namespace

Result<int64_t> Insert(Tx& tx, const RefundRecord& r, int64_t now_ms) {
  Query q = tx.Run(kInsert);
  q.Bind(r.packet_id).Bind(r.refund_no).Bind(r.amount_cents).Bind(Name(r.state)).Bind(now_ms);
  q.Bind(now_ms);
  if (!q.Next()) return q.status().ok() ? Internal("refund insert returned no id") : q.status();
  return q.Int(0);
}

Result<RefundRecord> Load(ReadTx& tx, int64_t refund_id) {
  Query q = tx.Run(kLoad);
  q.Bind(refund_id);
  if (!q.Next()) {
    if (!q.status().ok()) return q.status();
    return Status(Error::kMissingEntity, "no refund " + std::to_string(refund_id));
  }
  RefundRecord r{q.Int(0), q.Int(1), q.Text(2), q.Int(3), RefundState::kPending};
  Status s = ParseColumn(kRefundStates, q.Text(4), "refund status", &r.state);
  if (!s.ok()) return s;
  return r;
}

}  // namespace rp::ledger::refunds
