// OutboxQueue: the TaskQueue on the ledger's own outbox table. Tasks are written in the same
// transaction as the ledger change that needs them, so a crash can never leave a claim without
// its transfer or a transfer without its claim. Leases, completions and retries are ledger
// writes through the LedgerWriter (so they group-commit with everything else).
#pragma once

#include <condition_variable>
#include <mutex>

#include "common/clock.h"
#include "server/async/task_queue.h"
#include "server/base/ledger_writer.h"

namespace rp::async {

// The columns every task query selects, in the order ReadTaskRow reads them.
inline constexpr const char* kTaskColumns =
    "task_id, kind, order_no, ref_id, amount_cents, payload, attempts, created_at_ms";
// The task at q's current row (selected with kTaskColumns); attempts counts this try.
Task ReadTaskRow(sql::Stmt& q);

class OutboxQueue final : public TaskQueue {
 public:
  // writer and clock are not owned and must outlive the queue.
  OutboxQueue(base::LedgerWriter* writer, const Clock* clock) : writer_(writer), clock_(clock) {}

  Result<std::vector<Task>> Lease(int max, int64_t lease_ms) override;
  Status Complete(const Task& task) override;
  Status Retry(const Task& task, int64_t next_attempt_ms, const std::string& error,
               int64_t failed_after) override;
  void WaitForWork(int64_t timeout_ms) override;
  void Notify() override;

 private:
  base::LedgerWriter* writer_;
  const Clock* clock_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool notified_ = false;
};

}  // namespace rp::async
