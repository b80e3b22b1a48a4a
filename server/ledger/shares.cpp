#include "server/ledger/shares.h"

namespace rp::ledger::shares {
namespace {

const Sql kAny("SELECT EXISTS (SELECT 1 FROM shares WHERE packet_id = ?)");
// Sent ahead: a packet of 200,000 shares would otherwise cost 200,000 round trips on a
// client/server engine; a failure still fails the job at its next awaited statement.
const Sql kInsert("INSERT INTO shares (packet_id, idx, amount_cents) VALUES (?, ?, ?)",
                  Sql::Answer::kSentAhead);
// "Still free" is written so no index can serve it: PostgreSQL, before its statistics know a
// new packet's 200,000 free shares, otherwise walks all of them through the (packet_id, user_id)
// index instead of seeking the one share by its primary key (25 ms per claim, measured).
const Sql kTake(
    "UPDATE shares SET user_id = ? WHERE packet_id = ? AND idx = ? AND COALESCE(user_id, -1) = -1 "
    "RETURNING amount_cents");
// In SQLite the UNIQUE (packet_id, user_id) index keeps a packet's free shares (user_id NULL)
// together, ordered by rowid, so the first one is a single index seek and no extra index has to
// be updated by every claim (a partial "free shares" index cost ~40% of spread-out claims).
// In PostgreSQL the same index finds a free share at once when no order is asked for; ordering
// by ctid would read and sort every free share of the packet (25 ms per claim at 200,000).
const Sql kTakeNext(
    "UPDATE shares SET user_id = ? WHERE {row_id} = (SELECT {row_id} FROM shares "
    "WHERE packet_id = ? AND user_id IS NULL{in_row_order} LIMIT 1{skip_locked}) "
    "RETURNING amount_cents");
const Sql kFree("SELECT idx FROM shares WHERE packet_id = ? AND user_id IS NULL ORDER BY {row_id}");
const Sql kCount(
    "SELECT COUNT(*), COUNT(user_id), COALESCE(SUM(CASE WHEN user_id IS NULL THEN 0 ELSE "
    "amount_cents END), 0) FROM shares WHERE packet_id = ?");
const Sql kDrop("DELETE FROM shares WHERE packet_id = ?");
const Sql kSetTaken("UPDATE shares SET amount_cents = ? WHERE packet_id = ? AND user_id = ?");

Result<std::optional<int64_t>> Amount(Query& q) {
  if (!q.Next()) {
    if (!q.status().ok()) return q.status();
    return std::optional<int64_t>();
  }
  return std::optional<int64_t>(q.Int(0));
}

}  // namespace

Result<bool> AnyDrawn(ReadTx& tx, int64_t packet_id) {
  Query q = tx.Run(kAny);
  q.Bind(packet_id);
  if (!q.Next()) return q.status().ok() ? Internal("EXISTS returned no row") : q.status();
  return q.Int(0) != 0;
}

Status Insert(Tx& tx, int64_t packet_id, int64_t idx, int64_t amount_cents) {
  return tx.Run(kInsert).Bind(packet_id).Bind(idx).Bind(amount_cents).Exec();
}

Result<std::optional<int64_t>> Take(Tx& tx, int64_t packet_id, int64_t idx, int64_t user_id) {
  Query q = tx.Run(kTake);
  q.Bind(user_id).Bind(packet_id).Bind(idx);
  return Amount(q);
}

Result<std::optional<int64_t>> TakeNextFree(Tx& tx, int64_t packet_id, int64_t user_id) {
  Query q = tx.Run(kTakeNext);
  q.Bind(user_id).Bind(packet_id);
  return Amount(q);
}

Result<std::vector<int64_t>> FreeIndexes(ReadTx& tx, int64_t packet_id) {
  std::vector<int64_t> out;
  Query q = tx.Run(kFree);
  q.Bind(packet_id);
  while (q.Next()) out.push_back(q.Int(0));
  if (!q.status().ok()) return q.status();
  return out;
}

Result<Counts> Count(ReadTx& tx, int64_t packet_id) {
  Query q = tx.Run(kCount);
  q.Bind(packet_id);
  if (!q.Next()) return q.status().ok() ? Internal("COUNT returned no row") : q.status();
  return Counts{q.Int(0), q.Int(1), q.Int(2)};
}

Status Drop(Tx& tx, int64_t packet_id) {
  return tx.Run(kDrop).Bind(packet_id).Exec();
}

Status SetTakenAmount(Tx& tx, int64_t packet_id, int64_t user_id, int64_t amount_cents) {
  return tx.Run(kSetTaken).Bind(amount_cents).Bind(packet_id).Bind(user_id).Exec();
}

}  // namespace rp::ledger::shares
