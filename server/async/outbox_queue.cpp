#include "server/async/outbox_queue.h"

#include <chrono>

#include "server/core/ledger_tx.h"
#include "server/core/state_machine.h"

namespace rp::async {
namespace {

// Moves a claim or refund (and for refunds its packet) to `to`, if the table allows it from the
// entity's current state. Already there: nothing to do (completions are idempotent).
Status AdvanceEntity(sql::Db& db, const Task& t, std::string_view to_claim,
                     std::string_view to_refund, int64_t now_ms) {
  const bool transfer = t.kind == "transfer";
  if (!transfer && t.kind != "refund") return Status::Ok();
  const std::string table = transfer ? "claims" : "refunds";
  const std::string key = transfer ? "claim_id" : "refund_id";
  const std::string_view to = transfer ? to_claim : to_refund;
  sql::Stmt& q = db.Prepare("SELECT status FROM " + table + " WHERE " + key + " = ?");
  q.Bind(1, t.ref_id);
  if (!q.Step()) return q.status().ok() ? NotFound("missing_entity", t.order_no) : q.status();
  const std::string from = q.Text(0);
  q.Reset();
  if (from == to) return Status::Ok();
  const core::StateMachine& m = transfer ? core::ClaimMachine() : core::RefundMachine();
  if (!m.Allows(from, to)) return Status::Ok();  // e.g. already transferred: leave it.
  Status s = core::RecordTransition(db, m, t.ref_id, from, to, "async_" + t.kind, now_ms);
  if (!s.ok()) return s;
  sql::Stmt& up =
      db.Prepare("UPDATE " + table + " SET status = ?, updated_at_ms = ? WHERE " + key + " = ?");
  up.Bind(1, to).Bind(2, now_ms).Bind(3, t.ref_id);
  up.Step();
  if (!up.status().ok() || transfer || to != core::refund_state::kRefunded) return up.status();
  // The refund is paid: the expired packet is now refunded.
  sql::Stmt& p = db.Prepare("SELECT packet_id FROM refunds WHERE refund_id = ?");
  p.Bind(1, t.ref_id);
  if (!p.Step()) return p.status();
  const int64_t packet_id = p.Int(0);
  p.Reset();
  return core::MovePacket(db, packet_id, core::packet_state::kExpired,
                          core::packet_state::kRefunded, "refund_paid", now_ms);
}

}  // namespace

Task ReadTaskRow(sql::Stmt& q) {
  return {q.Int(0),  q.Text(1),    q.Text(2), q.Int(3), q.Int(4),
          q.Text(5), q.Int(6) + 1, q.Int(7),  {}};
}

Result<std::vector<Task>> OutboxQueue::Lease(int max, int64_t lease_ms) {
  std::vector<Task> tasks;
  const int64_t now_ms = clock_->NowMs();
  Status s = writer_->RunSync([&](sql::Db& db) {
    tasks.clear();
    sql::Stmt& q = db.Prepare(std::string("SELECT ") + kTaskColumns +
                              " FROM outbox WHERE status = 'pending' AND next_attempt_ms <= ? "
                              "ORDER BY next_attempt_ms LIMIT ?");
    q.Bind(1, now_ms).Bind(2, max);
    while (q.Step()) {
      tasks.push_back(ReadTaskRow(q));
    }
    if (!q.status().ok()) return q.status();
    sql::Stmt& up = db.Prepare(
        "UPDATE outbox SET next_attempt_ms = ?, attempts = attempts + 1, updated_at_ms = ? "
        "WHERE task_id = ?");
    for (const Task& t : tasks) {
      up.Reset();
      up.Bind(1, now_ms + lease_ms).Bind(2, now_ms).Bind(3, t.task_id);
      up.Step();
      if (!up.status().ok()) return up.status();
    }
    return Status::Ok();
  });
  if (!s.ok()) return s;
  return tasks;
}

Status OutboxQueue::Complete(const Task& t) {
  const int64_t now_ms = clock_->NowMs();
  return writer_->RunSync([&](sql::Db& db) {
    sql::Stmt& up = db.Prepare(
        "UPDATE outbox SET status = 'done', last_error = '', updated_at_ms = ? "
        "WHERE task_id = ? AND status = 'pending'");
    up.Bind(1, now_ms).Bind(2, t.task_id);
    up.Step();
    if (!up.status().ok()) return up.status();
    if (db.Changes() == 0) return Status::Ok();  // Completed by another worker already.
    return AdvanceEntity(db, t, core::claim_state::kTransferred, core::refund_state::kRefunded,
                         now_ms);
  });
}

Status OutboxQueue::Retry(const Task& t, int64_t next_attempt_ms, const std::string& error,
                          int64_t failed_after) {
  const int64_t now_ms = clock_->NowMs();
  return writer_->RunSync([&](sql::Db& db) {
    sql::Stmt& up = db.Prepare(
        "UPDATE outbox SET next_attempt_ms = ?, last_error = ?, updated_at_ms = ?, "
        "attempts = MAX(attempts, ?), relayed_at_ms = 0 WHERE task_id = ? AND status = 'pending'");
    // attempts: a Redis-delivered task was not counted at lease time (the outbox was not
    // touched); relayed_at_ms = 0: a StreamQueue relays it again when it is due.
    up.Bind(1, next_attempt_ms)
        .Bind(2, error.substr(0, 500))
        .Bind(3, now_ms)
        .Bind(4, t.attempts)
        .Bind(5, t.task_id);
    up.Step();
    if (!up.status().ok()) return up.status();
    if (t.attempts < failed_after) return Status::Ok();
    return AdvanceEntity(db, t, core::claim_state::kTransferFailed, core::refund_state::kFailed,
                         now_ms);
  });
}

void OutboxQueue::WaitForWork(int64_t timeout_ms) {
  std::unique_lock<std::mutex> lock(mu_);
  cv_.wait_for(lock, std::chrono::milliseconds(timeout_ms), [this] { return notified_; });
  notified_ = false;
}

void OutboxQueue::Notify() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    notified_ = true;
  }
  cv_.notify_all();
}

}  // namespace rp::async
