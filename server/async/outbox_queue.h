// OutboxQueue: the TaskQueue on the ledger's own outbox table. Tasks are written in the same
// transaction as the ledger change that needs them, so a crash can never leave a claim without
// its transfer or a transfer without its claim. Leases are ledger writes (they group-commit with
// everything else).
#pragma once

#include <condition_variable>
#include <mutex>

#include "common/clock.h"
#include "server/async/task_queue.h"
#include "server/ledger/engine.h"

namespace rp::async {

class OutboxQueue final : public TaskQueue {
 public:
  // ledger and clock are not owned and must outlive the queue.
  OutboxQueue(ledger::Engine* ledger, const Clock* clock) : ledger_(ledger), clock_(clock) {}

  Result<std::vector<Task>> Lease(int max, int64_t lease_ms, ledger::TaskLane lane) override;
  void Return(const std::vector<Task>& tasks) override;
  void Release(const Task& /*task*/) override {}  // The outcome in the ledger is all there is.
  void WaitForWork(int64_t timeout_ms) override;
  void Notify() override;

 private:
  ledger::Engine* ledger_;
  const Clock* clock_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool notified_ = false;
};

}  // namespace rp::async
