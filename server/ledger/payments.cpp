#include "server/ledger/payments.h"

#include "server/ledger/row_parse.h"

namespace rp::ledger::payments {
namespace {

const Sql kFind(
    "SELECT pay_order_no, packet_id, status, amount_cents, received_at_ms FROM payments "
    "WHERE pay_order_no = ?");
const Sql kInsert(
    "INSERT INTO payments (pay_order_no, packet_id, status, amount_cents, received_at_ms) "
    "VALUES (?, ?, ?, ?, ?)");

}  // namespace

Result<std::optional<PaymentRecord>> Find(ReadTx& tx, std::string_view pay_order_no) {
  Query q = tx.Run(kFind);
  q.Bind(pay_order_no);
  if (!q.Next()) {
    if (!q.status().ok()) return q.status();
    return std::optional<PaymentRecord>();
  }
  PaymentRecord p{q.Text(0), q.Int(1), PaymentStatus::kPaid, q.Int(3), q.Int(4)};
  Status s = ParseColumn(kPaymentStatuses, q.Text(2), "payment status", &p.status);
  if (!s.ok()) return s;
  return std::optional<PaymentRecord>(std::move(p));
}

Status Insert(Tx& tx, const PaymentRecord& p) {
  return tx.Run(kInsert)
      .Bind(p.pay_order_no)
      .Bind(p.packet_id)
      .Bind(Name(p.status))
      .Bind(p.amount_cents)
      .Bind(p.received_at_ms)
      .Exec();
}

}  // namespace rp::ledger::payments
