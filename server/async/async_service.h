// AsyncService: the workers of the seed's Async Service. They lease tasks from a TaskQueue and
// execute them against the downstream services:
//   transfer — POST /wallet/transfers (claim money to the claimer's wallet)
//   refund   — POST /wallet/refunds   (an expired packet's remainder back to the payer)
//   payment  — create the pay order at the payment service, then poll it until paid/failed
//              when no callback has activated the packet (callbacks can be lost)
// Every call carries the task's order number, so a retry after a timeout whose effect did
// happen is answered with the original result: exactly-once effects from at-least-once tries.
// Retries back off exponentially with jitter (seeded RNG), each call has a deadline, and nothing
// is ever dropped: after failed_after attempts the entity is marked failed and retried at the
// slowest pace. A stuck-task scanner re-drives old tasks and reports them (rp_stuck_orders).
// Thread-safe; Start() once, Stop() joins.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "common/clock.h"
#include "common/periodic.h"
#include "server/async/task_queue.h"
#include "server/base/ledger_writer.h"

namespace rp::async {

struct AsyncOptions {
  int workers = 2;
  int lease_batch_max = 32;
  int64_t lease_ms = 30000;  // A task a dead worker held reappears after this.
  int64_t idle_poll_ms = 100;
  int64_t call_deadline_ms = 2000;
  int64_t retry_base_ms = 100;
  int64_t retry_max_ms = 10000;
  int64_t failed_after_attempts = 8;
  int64_t payment_poll_ms = 1000;         // How long to wait for a callback before polling again.
  int64_t payment_late_poll_ms = 300000;  // Polling goes on this long after an unpaid close.
  int64_t stuck_after_ms = 60000;
  int64_t stuck_scan_interval_ms = 5000;
  uint64_t seed = 1;
  std::string wallet_url;
  std::string payment_url;
};

struct AsyncStats {
  std::map<std::string, int64_t> completed;  // By kind.
  std::map<std::string, int64_t> retried;    // By kind.
  std::map<std::string, int64_t> stuck;      // By kind, as of the last scan.
  int64_t oldest_pending_ms = 0;             // Queue lag, as of the last scan.
};

class AsyncService {
 public:
  // None of the pointers are owned; all must outlive the service.
  AsyncService(TaskQueue* queue, base::LedgerWriter* writer, const Clock* clock,
               AsyncOptions options);
  ~AsyncService();
  void Start();
  void Stop();
  AsyncStats Stats() const;
  // One stuck-task scan now (tests; also runs periodically).
  Status ScanStuck();

 private:
  void WorkerLoop(int index);
  // Executes one task: returns OK when its effect is confirmed downstream.
  Status Execute(const Task& task, class Calls& calls);
  int64_t Backoff(int64_t attempts);

  TaskQueue* queue_;
  base::LedgerWriter* writer_;
  const Clock* clock_;
  const AsyncOptions options_;
  std::atomic<bool> stopping_{false};
  mutable std::mutex mu_;
  std::mt19937_64 rng_;
  AsyncStats stats_;
  std::vector<std::thread> threads_;
  std::unique_ptr<Periodic> scanner_;
};

}  // namespace rp::async
