// TaskQueue: where the async service takes its work (transfers, refunds, payment checks) from —
// transport only. What a task's outcome means for the ledger is core's (core/task_effects.h),
// recorded in the ledger before the queue hears of it.
//
// Delivery is at-least-once: a task is leased (hidden from other workers for lease_ms), and
// reappears if its worker dies before Release(). Every task therefore carries an order number
// that the downstream service treats as an idempotency key, which turns at-least-once delivery
// into exactly-once effects. The embedded implementation is the ledger's outbox (OutboxQueue);
// StreamQueue puts a Redis stream in front of it. Implementations are thread-safe.
#pragma once

#include <cstdint>
#include <vector>

#include "common/metrics/metrics.h"
#include "common/status.h"
#include "server/ledger/records.h"

namespace rp::async {

using Task = ledger::TaskRecord;

class TaskQueue {
 public:
  virtual ~TaskQueue() = default;
  // Leases up to max due tasks of the lane's kinds for lease_ms. An empty vector when nothing is
  // due.
  virtual Result<std::vector<Task>> Lease(int max, int64_t lease_ms, ledger::TaskLane lane) = 0;
  // The worker is done with a delivered task (its outcome, done or retry, is in the ledger).
  virtual void Release(const Task& task) = 0;
  // Leased but never tried (the worker is stopping): due again now for the workers that remain
  // (another instance, or this one after a restart) instead of after the lease. Best effort: what
  // is not handed back reappears when its lease runs out, as a dead worker's would.
  virtual void Return(const std::vector<Task>& /*tasks*/) {}
  // Blocks until work may be due or timeout_ms passes. Notify() wakes waiters early.
  virtual void WaitForWork(int64_t timeout_ms) = 0;
  virtual void Notify() = 0;
  // The queue's own figures in /metrics, if it has any.
  virtual void RegisterMetrics(metrics::Hub& /*hub*/) {}
};

}  // namespace rp::async
