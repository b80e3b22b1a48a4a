#include "server/async/async_service.h"

#include <spdlog/spdlog.h>

#include "common/check.h"
#include "common/thread_name.h"
#include "server/async/task_calls.h"
#include "server/core/task_effects.h"
#include "server/ledger/outbox.h"

namespace rp::async {

AsyncService::AsyncService(TaskQueue* queue, ledger::Engine* ledger, const Clock* clock,
                           AsyncOptions options, WorkerTargets targets)
    : queue_(queue),
      ledger_(ledger),
      clock_(clock),
      options_(std::move(options)),
      targets_(std::move(targets)),
      rng_(targets_.seed) {
  RP_CHECK(options_.workers >= 1 && options_.payment_workers >= 1 &&
           options_.lease_batch_max >= 1 && options_.retry_base_ms >= 1);
}

AsyncService::~AsyncService() {
  Stop();
}

void AsyncService::Start() {
  // Bulkheads: a lane per downstream, so a slow wallet never holds the payment polls up, nor
  // the payment service the transfers.
  for (int i = 0; i < options_.workers; ++i) {
    threads_.push_back(NamedThread("rp-wallet-" + std::to_string(i),
                                   [this, i] { WorkerLoop(i, ledger::TaskLane::kWallet); }));
  }
  for (int i = 0; i < options_.payment_workers; ++i) {
    threads_.push_back(NamedThread("rp-payment-" + std::to_string(i), [this, i] {
      WorkerLoop(options_.workers + i, ledger::TaskLane::kPayment);
    }));
  }
  scanner_ = std::make_unique<Periodic>("rp-stuck-scan", [this] {
    Status s = ScanStuck();
    if (!s.ok()) spdlog::warn("stuck scan failed: {}", s.ToString());
    return options_.stuck_scan_interval_ms;
  });
  scanner_->Start(options_.stuck_scan_interval_ms);
}

void AsyncService::RequestStop() {
  stopping_ = true;
  queue_->Notify();
}

void AsyncService::Stop() {
  RequestStop();
  if (scanner_) scanner_->Stop();
  for (auto& t : threads_) {
    if (t.joinable()) t.join();
  }
  threads_.clear();
}

AsyncStats AsyncService::Stats() const {
  std::lock_guard<std::mutex> lock(mu_);
  return stats_;
}

void AsyncService::RegisterMetrics(metrics::Hub& hub) const {
  hub.AddCollector([this](metrics::Writer& w) {
    const AsyncStats s = Stats();
    for (ledger::TaskKind kind :
         {ledger::TaskKind::kTransfer, ledger::TaskKind::kRefund, ledger::TaskKind::kPayment}) {
      const metrics::Labels l{{"kind", std::string(ledger::Name(kind))}};
      auto value = [kind](const std::map<ledger::TaskKind, int64_t>& m) {
        auto it = m.find(kind);
        return static_cast<double>(it == m.end() ? 0 : it->second);
      };
      w.Counter("rp_async_tasks_completed_total",
                "Async tasks whose downstream effect was confirmed, by kind", value(s.completed),
                l);
      w.Counter("rp_async_task_retries_total",
                "Async task attempts that failed and were rescheduled, by kind", value(s.retried),
                l);
      w.Gauge("rp_stuck_orders",
              "Tasks pending past async.stuck_after_ms at the last scan, by kind", value(s.stuck),
              l);
    }
    w.Gauge("rp_queue_lag_seconds", "Age of the oldest pending async task at the last scan",
            static_cast<double>(s.oldest_pending_ms) / 1000.0);
  });
}

int64_t AsyncService::Backoff(int64_t attempts) {
  const int64_t shift = std::min<int64_t>(attempts - 1, 20);
  const int64_t delay = std::min(options_.retry_max_ms, options_.retry_base_ms << shift);
  std::lock_guard<std::mutex> lock(mu_);
  // Full jitter on the upper half: spreads retries of tasks that failed together.
  return delay / 2 + std::uniform_int_distribution<int64_t>(0, delay / 2)(rng_);
}

AsyncService::Attempt AsyncService::Judge(const Task& t, Status outcome) {
  Attempt a{&t, outcome.ok(), 0, {}, INT64_MAX};
  if (a.done) return a;
  const bool poll = outcome.Is(Error::kPaymentPending);
  if (!poll) {
    spdlog::info("{} {} attempt {} failed: {}", ledger::Name(t.kind), t.order_no, t.attempts,
                 outcome.ToString());
  }
  a.next_attempt_ms = clock_->NowMs() + (poll ? options_.payment_poll_ms : Backoff(t.attempts));
  a.error = outcome.ToString();
  if (t.kind != ledger::TaskKind::kPayment) a.failed_after = options_.failed_after_attempts;
  return a;
}

namespace {

// A task's own bookkeeping error (its entity gone, a move its state table refuses) fails that
// task only; what says the transaction itself is in trouble — the storage busy or gone, a row
// moved or inserted by a transaction that raced ours — fails the whole batch, which the engine
// then retries or reports as it would one task's.
bool FailsTheBatch(const Status& s) {
  return s.code() == Code::kUnavailable || s.Is(Error::kStateChanged) ||
         s.Is(Error::kConstraintViolation);
}

}  // namespace

// Records the attempts' outcomes in the ledger (core decides what each means) in one
// transaction, each task in a savepoint of its own, then releases the tasks it recorded. One
// commit for a batch of calls instead of one per call: on a database server each commit is a
// round trip and a WAL flush, and the async work is half of a busy system's commits.
void AsyncService::Record(std::vector<Attempt>& attempts) {
  if (attempts.empty()) return;
  const int64_t now_ms = clock_->NowMs();
  std::vector<Status> recorded(attempts.size());
  Status s = ledger_->RunSync([&](ledger::Tx& tx) {
    for (size_t i = 0; i < attempts.size(); ++i) {
      const Attempt& a = attempts[i];
      recorded[i] = tx.Nested([&](ledger::Tx& nested) {
        return a.done ? core::CompleteTaskTx(nested, *a.task, now_ms)
                      : core::RetryTaskTx(nested, *a.task, a.next_attempt_ms, a.error,
                                          a.failed_after, now_ms);
      });
      if (FailsTheBatch(recorded[i])) return recorded[i];
    }
    return Status::Ok();
  });
  for (size_t i = 0; i < attempts.size(); ++i) {
    const Task& t = *attempts[i].task;
    const Status& mine = s.ok() ? recorded[i] : s;
    // Not released when the ledger did not take the outcome: the lease runs out and the task is
    // delivered again.
    if (!mine.ok()) {
      spdlog::warn("task {} bookkeeping failed: {}", t.order_no, mine.ToString());
    } else {
      queue_->Release(t);
    }
  }
  std::lock_guard<std::mutex> lock(mu_);
  for (const Attempt& a : attempts) ++(a.done ? stats_.completed : stats_.retried)[a.task->kind];
  attempts.clear();
}

void AsyncService::WorkerLoop(int index, ledger::TaskLane lane) {
  TaskCalls calls(targets_, ledger_, clock_, options_.payment_late_poll_ms);
  std::vector<Attempt> attempts;
  attempts.reserve(static_cast<size_t>(options_.lease_batch_max));
  while (!stopping_) {
    Result<std::vector<Task>> tasks =
        queue_->Lease(options_.lease_batch_max, options_.lease_ms, lane);
    if (!tasks.ok() || tasks->empty()) {
      if (!tasks.ok()) {
        spdlog::warn("worker {}: lease failed: {}", index, tasks.status().ToString());
      }
      queue_->WaitForWork(options_.idle_poll_ms);
      continue;
    }
    int64_t first_outcome_ms = 0;
    std::vector<Task> untried;
    for (const Task& t : *tasks) {
      if (stopping_) {  // Handed back below, for the workers that remain.
        untried.push_back(t);
        continue;
      }
      attempts.push_back(Judge(t, calls.Execute(t)));
      const int64_t now_ms = clock_->NowMs();
      if (attempts.size() == 1) first_outcome_ms = now_ms;
      // A slow downstream must not hold finished work back: what waited long enough is
      // recorded now, the rest with the batch.
      if (now_ms - first_outcome_ms >= kRecordLingerMs) Record(attempts);
    }
    Record(attempts);  // Also when stopping: these calls happened.
    queue_->Return(untried);
  }
}

Status AsyncService::ScanStuck() {
  const int64_t now_ms = clock_->NowMs();
  const int64_t before_ms = now_ms - options_.stuck_after_ms;
  ledger::outbox::Backlog backlog;
  Status s = ledger_->RunSync([&](ledger::Tx& tx) {
    Result<ledger::outbox::Backlog> b = ledger::outbox::Stuck(tx, before_ms);
    if (!b.ok()) return b.status();
    backlog = std::move(b.value());
    // Re-drive: stuck tasks are tried again now instead of at their backed-off time.
    return ledger::outbox::Redrive(tx, now_ms, before_ms);
  });
  if (!s.ok()) return s;
  for (const auto& [kind, n] : backlog.stuck) {
    spdlog::warn("stuck_orders: {} {} task(s) pending for over {} ms; re-driven", n,
                 ledger::Name(kind), options_.stuck_after_ms);
  }
  std::lock_guard<std::mutex> lock(mu_);
  stats_.stuck = backlog.stuck;
  stats_.oldest_pending_ms =
      backlog.oldest_created_at_ms > 0 ? now_ms - backlog.oldest_created_at_ms : 0;
  return Status::Ok();
}

}  // namespace rp::async
