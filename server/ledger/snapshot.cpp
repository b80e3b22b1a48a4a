#include "server/ledger/snapshot.h"

namespace rp::ledger {
namespace {

const Sql kPackets(
    "SELECT packet_id, status, total_cents, count, claimed_cents, claimed_count, "
    "COALESCE(pay_order_no, ''), created_at_ms, kind, COALESCE(subsidy_id, ''), "
    // An integer on both engines (PostgreSQL's EXISTS is a boolean).
    "CASE WHEN EXISTS (SELECT 1 FROM outbox o WHERE o.kind = 'payment' AND o.status = 'pending' "
    "AND o.ref_id = packets.packet_id) THEN 1 ELSE 0 END FROM packets");
const Sql kClaims("SELECT claim_id, packet_id, user_id, amount_cents, status FROM claims");
const Sql kTransfers("SELECT order_no, ref_id, amount_cents FROM outbox WHERE kind = 'transfer'");
const Sql kRefunds("SELECT refund_no, packet_id, amount_cents, status FROM refunds");
const Sql kPayments("SELECT pay_order_no, packet_id, status, amount_cents FROM payments");
const Sql kSubsidies(
    "SELECT subsidy_id, amount_cents, state, COALESCE(packet_id, 0) FROM subsidies");

// Reads every row of sql with read(q) appending it.
template <typename F>
Status ReadAll(ReadTx& tx, const Sql& sql, F read) {
  Query q = tx.Run(sql);
  while (q.Next()) read(q);
  return q.status();
}

}  // namespace

Status LoadSnapshot(ReadTx& tx, conservation::LedgerSnapshot* out) {
  *out = {};
  Status s = ReadAll(tx, kPackets, [&](const Query& p) {
    out->packets.push_back({p.Int(0), p.Text(1), p.Int(2), p.Int(3), p.Int(4), p.Int(5), p.Text(6),
                            p.Int(7), p.Text(8), p.Text(9), p.Int(10) != 0});
  });
  if (s.ok()) {
    s = ReadAll(tx, kClaims, [&](const Query& c) {
      out->claims.push_back({c.Int(0), c.Int(1), c.Int(2), c.Int(3), c.Text(4)});
    });
  }
  if (s.ok()) {
    s = ReadAll(tx, kTransfers, [&](const Query& t) {
      out->transfers.push_back({t.Text(0), t.Int(1), t.Int(2)});
    });
  }
  if (s.ok()) {
    s = ReadAll(tx, kRefunds, [&](const Query& r) {
      out->refunds.push_back({r.Text(0), r.Int(1), r.Int(2), r.Text(3)});
    });
  }
  if (s.ok()) {
    s = ReadAll(tx, kPayments, [&](const Query& y) {
      out->payments.push_back({y.Text(0), y.Int(1), y.Text(2), y.Int(3)});
    });
  }
  if (s.ok()) {
    s = ReadAll(tx, kSubsidies, [&](const Query& u) {
      out->subsidies.push_back({u.Text(0), u.Int(1), u.Text(2), u.Int(3)});
    });
  }
  return s;
}

}  // namespace rp::ledger
