#include "server/async/outbox_queue.h"

#include <spdlog/spdlog.h>

#include <chrono>

#include "server/ledger/outbox.h"

namespace rp::async {

Result<std::vector<Task>> OutboxQueue::Lease(int max, int64_t lease_ms, ledger::TaskLane lane) {
  std::vector<Task> tasks;
  const int64_t now_ms = clock_->NowMs();
  Status s = ledger_->RunSync([&](ledger::Tx& tx) {
    Result<std::vector<Task>> leased = ledger::outbox::Lease(tx, now_ms, max, lease_ms, lane);
    if (!leased.ok()) return leased.status();
    tasks = std::move(leased.value());
    return Status::Ok();
  });
  if (!s.ok()) return s;
  return tasks;
}

void OutboxQueue::Return(const std::vector<Task>& tasks) {
  if (tasks.empty()) return;
  const int64_t now_ms = clock_->NowMs();
  Status s = ledger_->RunSync([&](ledger::Tx& tx) {
    for (const Task& t : tasks) {
      if (Status u = ledger::outbox::Unlease(tx, t.task_id, t.attempts, now_ms); !u.ok()) return u;
    }
    return Status::Ok();
  });
  // Not handed back: each reappears when its lease runs out, as a dead worker's would.
  if (!s.ok()) spdlog::warn("{} leased task(s) not handed back: {}", tasks.size(), s.ToString());
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
