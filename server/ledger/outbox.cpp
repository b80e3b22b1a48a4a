#include "server/ledger/outbox.h"

#include <algorithm>

#include "server/ledger/row_parse.h"

namespace rp::ledger::outbox {
namespace {

#define RP_TASK_COLUMNS \
  "task_id, kind, order_no, ref_id, amount_cents, payload, attempts, created_at_ms"

const Sql kEnqueue(
    "INSERT INTO outbox (kind, order_no, ref_id, amount_cents, payload, status, "
    "next_attempt_ms, created_at_ms, updated_at_ms) VALUES (?, ?, ?, ?, ?, 'pending', ?, ?, ?)",
    Sql::Answer::kSentAhead);
// A lease is one statement, whatever its size (on a database server every statement is a round
// trip): the due rows are chosen and locked first (SKIP LOCKED where rows lock, so two workers
// never take one task), then held. MATERIALIZED runs that choice exactly once: a subquery the
// planner may rescan could lock and hold more than its LIMIT. One per lane (kind names as in
// records.h's kTaskKinds).
#define RP_LEASE(lane_filter)                                                          \
  "WITH due AS MATERIALIZED (SELECT task_id FROM outbox WHERE status = 'pending' AND " \
  "next_attempt_ms <= ? " lane_filter                                                  \
  "ORDER BY next_attempt_ms LIMIT ?{skip_locked}) "                                    \
  "UPDATE outbox SET next_attempt_ms = ?, attempts = attempts + 1, updated_at_ms = ? " \
  "WHERE task_id IN (SELECT task_id FROM due) RETURNING " RP_TASK_COLUMNS
const Sql kLease(RP_LEASE(""));
const Sql kLeasePayment(RP_LEASE("AND kind = 'payment' "));
const Sql kLeaseWallet(RP_LEASE("AND kind <> 'payment' "));
#undef RP_LEASE
const Sql kUnlease(
    "UPDATE outbox SET next_attempt_ms = ?, attempts = attempts - 1, updated_at_ms = ? "
    "WHERE task_id = ? AND status = 'pending' AND attempts = ?");
const Sql kDone(
    "UPDATE outbox SET status = 'done', last_error = '', updated_at_ms = ? "
    "WHERE task_id = ? AND status = 'pending'");
const Sql kReschedule(
    "UPDATE outbox SET next_attempt_ms = ?, last_error = ?, updated_at_ms = ?, "
    "attempts = CASE WHEN attempts > ? THEN attempts ELSE ? END, relayed_at_ms = 0 "
    "WHERE task_id = ? AND status = 'pending'");
#define RP_DUE_FOR_RELAY(lane_filter)                               \
  "SELECT " RP_TASK_COLUMNS                                         \
  " FROM outbox WHERE status = 'pending' AND next_attempt_ms <= ? " \
  "AND (relayed_at_ms = 0 OR relayed_at_ms <= ?) " lane_filter      \
  "ORDER BY "                                                       \
  "next_attempt_ms LIMIT ?"
const Sql kDueForRelay(RP_DUE_FOR_RELAY(""));
const Sql kDueForRelayPayment(RP_DUE_FOR_RELAY("AND kind = 'payment' "));
const Sql kDueForRelayWallet(RP_DUE_FOR_RELAY("AND kind <> 'payment' "));
#undef RP_DUE_FOR_RELAY
const Sql kMarkRelayed(
    "UPDATE outbox SET relayed_at_ms = ? WHERE task_id = ? AND attempts = ? "
    "AND status = 'pending'");
const Sql kForgetRelayed("UPDATE outbox SET relayed_at_ms = 0 WHERE status = 'pending'");
const Sql kStuck(
    "SELECT kind, COUNT(*) FROM outbox WHERE status = 'pending' AND created_at_ms <= ? "
    "GROUP BY kind");
const Sql kOldest("SELECT COUNT(*), MIN(created_at_ms) FROM outbox WHERE status = 'pending'");
const Sql kRedrive(
    "UPDATE outbox SET next_attempt_ms = ? WHERE status = 'pending' AND created_at_ms <= ? "
    "AND next_attempt_ms > ?");

#undef RP_TASK_COLUMNS

// attempts as stored: the tries made so far.
Result<TaskRecord> ReadRow(const Query& q) {
  TaskRecord t{q.Int(0), TaskKind::kTransfer, q.Text(2), q.Int(3),
               q.Int(4), q.Text(5),           q.Int(6),  q.Int(7),
               {}};
  Status s = ParseColumn(kTaskKinds, q.Text(1), "task kind", &t.kind);
  if (!s.ok()) return s;
  return t;
}

Result<std::vector<TaskRecord>> ReadAll(Query& q) {
  std::vector<TaskRecord> out;
  while (q.Next()) {
    Result<TaskRecord> t = ReadRow(q);
    if (!t.ok()) return t.status();
    out.push_back(std::move(t.value()));
  }
  if (!q.status().ok()) return q.status();
  return out;
}

}  // namespace

Status Enqueue(Tx& tx, const NewTask& t, int64_t now_ms) {
  return tx.Run(kEnqueue)
      .Bind(Name(t.kind))
      .Bind(t.order_no)
      .Bind(t.ref_id)
      .Bind(t.amount_cents)
      .Bind(t.payload)
      .Bind(now_ms)
      .Bind(now_ms)
      .Bind(now_ms)
      .Exec();
}

namespace {
const Sql& ForLane(TaskLane lane, const Sql& all, const Sql& payment, const Sql& wallet) {
  return lane == TaskLane::kPayment ? payment : lane == TaskLane::kWallet ? wallet : all;
}
}  // namespace

Result<std::vector<TaskRecord>> Lease(Tx& tx, int64_t now_ms, int max, int64_t lease_ms,
                                      TaskLane lane) {
  Query q = tx.Run(ForLane(lane, kLease, kLeasePayment, kLeaseWallet));
  q.Bind(now_ms).Bind(int64_t{max}).Bind(now_ms + lease_ms).Bind(now_ms);
  Result<std::vector<TaskRecord>> leased = ReadAll(q);
  if (!leased.ok()) return leased.status();
  // RETURNING has no order; the worker's is the tasks' creation order, so runs repeat.
  std::sort(leased->begin(), leased->end(),
            [](const TaskRecord& a, const TaskRecord& b) { return a.task_id < b.task_id; });
  return leased;
}

Status Unlease(Tx& tx, int64_t task_id, int64_t attempts_when_leased, int64_t now_ms) {
  return tx.Run(kUnlease).Bind(now_ms).Bind(now_ms).Bind(task_id).Bind(attempts_when_leased).Exec();
}

Result<bool> MarkDone(Tx& tx, int64_t task_id, int64_t now_ms) {
  Query q = tx.Run(kDone);
  Status s = q.Bind(now_ms).Bind(task_id).Exec();
  if (!s.ok()) return s;
  return q.changes() == 1;
}

Status Reschedule(Tx& tx, int64_t task_id, int64_t next_attempt_ms, const std::string& error,
                  int64_t attempts, int64_t now_ms) {
  return tx.Run(kReschedule)
      .Bind(next_attempt_ms)
      .Bind(std::string_view(error).substr(0, 500))
      .Bind(now_ms)
      .Bind(attempts)
      .Bind(attempts)
      .Bind(task_id)
      .Exec();
}

Result<std::vector<TaskRecord>> DueForRelay(ReadTx& tx, int64_t now_ms, int64_t republish_before_ms,
                                            int limit, TaskLane lane) {
  Query q = tx.Run(ForLane(lane, kDueForRelay, kDueForRelayPayment, kDueForRelayWallet));
  q.Bind(now_ms).Bind(republish_before_ms).Bind(int64_t{limit});
  return ReadAll(q);
}

Status MarkRelayed(Tx& tx, int64_t task_id, int64_t attempts_when_read, int64_t now_ms) {
  return tx.Run(kMarkRelayed).Bind(now_ms).Bind(task_id).Bind(attempts_when_read).Exec();
}

Status ForgetRelayed(Tx& tx) {
  return tx.Run(kForgetRelayed).Exec();
}

Result<Backlog> Stuck(ReadTx& tx, int64_t created_before_ms) {
  Backlog b;
  {
    Query q = tx.Run(kStuck);
    q.Bind(created_before_ms);
    while (q.Next()) {
      TaskKind kind = TaskKind::kTransfer;
      Status s = ParseColumn(kTaskKinds, q.Text(0), "task kind", &kind);
      if (!s.ok()) return s;
      b.stuck[kind] = q.Int(1);
    }
    if (!q.status().ok()) return q.status();
  }
  Query oldest = tx.Run(kOldest);
  if (!oldest.Next())
    return oldest.status().ok() ? Internal("COUNT returned no row") : oldest.status();
  b.pending = oldest.Int(0);
  if (!oldest.IsNull(1)) b.oldest_created_at_ms = oldest.Int(1);
  return b;
}

Status Redrive(Tx& tx, int64_t now_ms, int64_t created_before_ms) {
  return tx.Run(kRedrive).Bind(now_ms).Bind(created_before_ms).Bind(now_ms).Exec();
}

}  // namespace rp::ledger::outbox
