#include "server/query/packet_query.h"

#include "common/check.h"

namespace rp::query {

Result<PacketView> GetPacket(ReadPool& pool, int64_t packet_id) {
  PacketView v;
  Status s = pool.With([&](sql::Db& db) {
    sql::Stmt& q = db.Prepare(
        "SELECT packet_id, kind, sender_id, status, audience, total_cents, count, claimed_count, "
        "claimed_cents, created_at_ms, expires_at_ms FROM packets WHERE packet_id = ?");
    q.Bind(1, packet_id);
    if (!q.Step()) {
      if (!q.status().ok()) return q.status();
      return NotFound("packet_not_found", "no packet " + std::to_string(packet_id));
    }
    v = {q.Int(0), q.Text(1), q.Int(2), q.Text(3), q.Text(4), q.Int(5),
         q.Int(6), q.Int(7),  q.Int(8), q.Int(9),  q.Int(10)};
    q.Reset();
    return Status::Ok();
  });
  if (!s.ok()) return s;
  // Asserted on read as well as on write.
  RP_CHECK(v.claimed_cents >= 0 && v.claimed_cents <= v.total_cents);
  RP_CHECK(v.claimed_count >= 0 && v.claimed_count <= v.count);
  return v;
}

Result<ClaimsPage> ListClaims(ReadPool& pool, int64_t packet_id, int64_t after_seq, int limit) {
  ClaimsPage page;
  Status s = pool.With([&](sql::Db& db) {
    sql::Stmt& p = db.Prepare("SELECT status FROM packets WHERE packet_id = ?");
    p.Bind(1, packet_id);
    if (!p.Step()) {
      if (!p.status().ok()) return p.status();
      return NotFound("packet_not_found", "no packet " + std::to_string(packet_id));
    }
    const bool finished = p.Text(0) == "finished";
    p.Reset();
    if (finished) {
      sql::Stmt& best = db.Prepare(
          "SELECT claim_id FROM claims WHERE packet_id = ? "
          "ORDER BY amount_cents DESC, seq ASC LIMIT 1");
      best.Bind(1, packet_id);
      if (best.Step()) page.best_luck_claim_id = best.Int(0);
      best.Reset();
    }
    sql::Stmt& q = db.Prepare(
        "SELECT claim_id, seq, user_id, amount_cents, claimed_at_ms FROM claims "
        "WHERE packet_id = ? AND seq > ? ORDER BY seq LIMIT ?");
    q.Bind(1, packet_id).Bind(2, after_seq).Bind(3, limit + 1);
    while (q.Step()) {
      ClaimView c{q.Int(0), q.Int(1), q.Int(2), q.Int(3), q.Int(4), false};
      c.best_luck = page.best_luck_claim_id && *page.best_luck_claim_id == c.claim_id;
      page.claims.push_back(c);
    }
    if (!q.status().ok()) return q.status();
    if (static_cast<int>(page.claims.size()) > limit) {
      page.claims.pop_back();
      page.next_cursor = page.claims.back().seq;
    }
    return Status::Ok();
  });
  if (!s.ok()) return s;
  return page;
}

Result<core::ClaimOutcome> FindClaim(ReadPool& pool, int64_t packet_id, int64_t user_id) {
  core::ClaimOutcome out;
  Status s = pool.With([&](sql::Db& db) {
    sql::Stmt& q = db.Prepare(
        "SELECT claim_id, amount_cents, claimed_at_ms, status FROM claims "
        "WHERE packet_id = ? AND user_id = ?");
    q.Bind(1, packet_id).Bind(2, user_id);
    if (!q.Step()) return q.status().ok() ? NotFound("claim_not_found", "") : q.status();
    out = {q.Int(0), packet_id, user_id, q.Int(1), q.Int(2), q.Text(3), true};
    q.Reset();
    return Status::Ok();
  });
  if (!s.ok()) return s;
  return out;
}

Result<SoldOutView> CheckSoldOut(ReadPool& pool, int64_t packet_id, int64_t user_id) {
  SoldOutView v;
  Status s = pool.With([&](sql::Db& db) {
    sql::Stmt& q = db.Prepare(
        "SELECT p.status, p.count - p.claimed_count, c.claim_id, c.amount_cents, "
        "c.claimed_at_ms, c.status FROM packets p LEFT JOIN claims c "
        "ON c.packet_id = p.packet_id AND c.user_id = ? WHERE p.packet_id = ?");
    q.Bind(1, user_id).Bind(2, packet_id);
    if (!q.Step()) return q.status().ok() ? NotFound("packet_not_found", "") : q.status();
    v.status = q.Text(0);
    v.remaining_count = q.Int(1);
    if (!q.IsNull(2))
      v.mine =
          core::ClaimOutcome{q.Int(2), packet_id, user_id, q.Int(3), q.Int(4), q.Text(5), true};
    q.Reset();
    return Status::Ok();
  });
  if (!s.ok()) return s;
  return v;
}

Result<FinalView> FinalClaimers(ReadPool& pool, int64_t packet_id, int64_t limit) {
  FinalView v;
  Status s = pool.With([&](sql::Db& db) {
    sql::Stmt& p = db.Prepare("SELECT status FROM packets WHERE packet_id = ?");
    p.Bind(1, packet_id);
    if (!p.Step()) return p.status().ok() ? NotFound("packet_not_found", "") : p.status();
    v.status = p.Text(0);
    p.Reset();
    if (v.status != "finished" && v.status != "expired" && v.status != "refunded") {
      return Status::Ok();
    }
    // Read after the status: the packet was final already, so its claims cannot change.
    sql::Stmt& c = db.Prepare("SELECT user_id FROM claims WHERE packet_id = ? LIMIT ?");
    c.Bind(1, packet_id).Bind(2, limit + 1);
    while (c.Step()) v.claimers.push_back(c.Int(0));
    Status st = c.status();
    c.Reset();
    v.complete = static_cast<int64_t>(v.claimers.size()) <= limit;
    return st;
  });
  if (!s.ok()) return s;
  return v;
}

Result<std::vector<int64_t>> OpenPacketIds(ReadPool& pool, int64_t limit) {
  std::vector<int64_t> ids;
  Status s = pool.With([&](sql::Db& db) {
    sql::Stmt& q = db.Prepare(
        "SELECT packet_id FROM packets WHERE status IN ('awaiting_payment', 'active') "
        "ORDER BY packet_id DESC LIMIT ?");
    q.Bind(1, limit);
    while (q.Step()) ids.push_back(q.Int(0));
    Status st = q.status();
    q.Reset();
    return st;
  });
  if (!s.ok()) return s;
  return ids;
}

Status LoadSnapshot(sql::Db& db, conservation::LedgerSnapshot* out) {
  sql::Stmt& p = db.Prepare(
      "SELECT packet_id, status, total_cents, count, claimed_cents, claimed_count, "
      "COALESCE(pay_order_no, ''), created_at_ms, kind, COALESCE(subsidy_id, '') FROM packets");
  while (p.Step()) {
    out->packets.push_back({p.Int(0), p.Text(1), p.Int(2), p.Int(3), p.Int(4), p.Int(5), p.Text(6),
                            p.Int(7), p.Text(8), p.Text(9)});
  }
  if (!p.status().ok()) return p.status();
  sql::Stmt& c =
      db.Prepare("SELECT claim_id, packet_id, user_id, amount_cents, status FROM claims");
  while (c.Step()) out->claims.push_back({c.Int(0), c.Int(1), c.Int(2), c.Int(3), c.Text(4)});
  if (!c.status().ok()) return c.status();
  sql::Stmt& t =
      db.Prepare("SELECT order_no, ref_id, amount_cents FROM outbox WHERE kind = 'transfer'");
  while (t.Step()) out->transfers.push_back({t.Text(0), t.Int(1), t.Int(2)});
  if (!t.status().ok()) return t.status();
  sql::Stmt& r = db.Prepare("SELECT refund_no, packet_id, amount_cents, status FROM refunds");
  while (r.Step()) out->refunds.push_back({r.Text(0), r.Int(1), r.Int(2), r.Text(3)});
  if (!r.status().ok()) return r.status();
  sql::Stmt& y = db.Prepare("SELECT pay_order_no, packet_id, status, amount_cents FROM payments");
  while (y.Step()) out->payments.push_back({y.Text(0), y.Int(1), y.Text(2), y.Int(3)});
  if (!y.status().ok()) return y.status();
  sql::Stmt& u =
      db.Prepare("SELECT subsidy_id, amount_cents, state, COALESCE(packet_id, 0) FROM subsidies");
  while (u.Step()) out->subsidies.push_back({u.Text(0), u.Int(1), u.Text(2), u.Int(3)});
  return u.status();
}

Result<conservation::LedgerSnapshot> Snapshot(ReadPool& pool) {
  conservation::LedgerSnapshot snap;
  Status s = pool.With([&](sql::Db& db) {
    snap = {};
    return LoadSnapshot(db, &snap);
  });
  if (!s.ok()) return s;
  return snap;
}

}  // namespace rp::query
