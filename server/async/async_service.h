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
// Workers run in two lanes (bulkheads): async.workers for the wallet (transfers, refunds),
// async.payment_workers for the payment service, so a slow one holds only its own lane.
// Thread-safe; Start() once, Stop() joins.
#pragma once

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "common/clock.h"
#include "common/metrics/metrics.h"
#include "common/periodic.h"
#include "server/async/options.h"
#include "server/async/task_queue.h"
#include "server/base/breakers.h"
#include "server/ledger/engine.h"

namespace rp::async {

// Where the work goes and how the calls are made.
struct WorkerTargets {
  std::string wallet_url;
  std::string payment_url;
  int64_t call_deadline_ms = 2000;
  uint64_t seed = 1;                   // Retry jitter.
  base::Breakers* breakers = nullptr;  // The app's; not owned.
};

struct AsyncStats {
  std::map<ledger::TaskKind, int64_t> completed;  // Monotonic.
  std::map<ledger::TaskKind, int64_t> retried;    // Monotonic.
  std::map<ledger::TaskKind, int64_t> stuck;      // As of the last scan.
  int64_t oldest_pending_ms = 0;                  // Queue lag, as of the last scan.
};

class AsyncService {
 public:
  // None of the pointers are owned; all must outlive the service.
  AsyncService(TaskQueue* queue, ledger::Engine* ledger, const Clock* clock, AsyncOptions options,
               WorkerTargets targets);
  ~AsyncService();
  void Start();
  // Tells the workers to stop without waiting for them: each finishes the call in hand, records
  // what it did and hands its untried leased tasks back (TaskQueue::Return). Any thread.
  void RequestStop();
  // RequestStop(), then waits for the workers and the stuck-task scanner to end.
  void Stop();
  AsyncStats Stats() const;
  void RegisterMetrics(metrics::Hub& hub) const;
  // One stuck-task scan now (tests; also runs periodically).
  Status ScanStuck();

 private:
  // One call's outcome, judged when it came (its retry time drawn then), recorded later.
  struct Attempt {
    const Task* task;  // In the worker's current lease batch.
    bool done;
    int64_t next_attempt_ms;
    std::string error;
    int64_t failed_after;  // Attempts after which the entity is marked failed.
  };
  // Outcomes wait at most this long for the rest of their lease batch before being recorded.
  static constexpr int64_t kRecordLingerMs = 20;

  void WorkerLoop(int index, ledger::TaskLane lane);
  Attempt Judge(const Task& t, Status outcome);
  // Records and clears attempts.
  void Record(std::vector<Attempt>& attempts);
  int64_t Backoff(int64_t attempts);

  TaskQueue* queue_;
  ledger::Engine* ledger_;
  const Clock* clock_;
  const AsyncOptions options_;
  const WorkerTargets targets_;
  std::atomic<bool> stopping_{false};
  mutable std::mutex mu_;
  std::mt19937_64 rng_;
  AsyncStats stats_;
  std::vector<std::thread> threads_;
  std::unique_ptr<Periodic> scanner_;
};

}  // namespace rp::async
