// TaskQueue: where the async service takes its work (transfers, refunds, payment checks) from.
//
// Delivery is at-least-once: a task is leased (hidden from other workers for lease_ms), and
// reappears if its worker dies before Complete() or Retry(). Every task therefore carries an
// order number that the downstream service treats as an idempotency key, which turns
// at-least-once delivery into exactly-once effects. The embedded implementation is the SQLite
// outbox (OutboxQueue); StreamQueue puts a Redis stream in front of it.
// Implementations are thread-safe.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "common/status.h"

namespace rp::async {

struct Task {
  int64_t task_id = 0;
  std::string kind;      // "transfer" | "refund" | "payment"
  std::string order_no;  // Idempotency key at the downstream service.
  int64_t ref_id = 0;    // claim_id | refund_id | packet_id
  int64_t amount_cents = 0;
  std::string payload;   // JSON object: what the call needs.
  int64_t attempts = 0;  // Including this one.
  int64_t created_at_ms = 0;
  std::string queue_ref;  // The queue's own handle (a stream entry id); empty for the outbox.
};

class TaskQueue {
 public:
  virtual ~TaskQueue() = default;
  // Leases up to max due tasks for lease_ms. An empty vector when nothing is due.
  virtual Result<std::vector<Task>> Lease(int max, int64_t lease_ms) = 0;
  // The task's effect happened downstream: finish it and advance the ledger's state machines.
  virtual Status Complete(const Task& task) = 0;
  // Try again at next_attempt_ms. After failed_after attempts the entity is marked failed
  // (transfer_failed / refund_failed) but the task stays and keeps being retried.
  virtual Status Retry(const Task& task, int64_t next_attempt_ms, const std::string& error,
                       int64_t failed_after) = 0;
  // Blocks until work may be due or timeout_ms passes. Notify() wakes waiters early.
  virtual void WaitForWork(int64_t timeout_ms) = 0;
  virtual void Notify() = 0;
};

}  // namespace rp::async
