// StreamQueue: the TaskQueue on a Redis stream (consumer group "rp-workers"), fed from the ledger's
// outbox by a relay — the seed's MQ between the claim path and the transfer workers.
//
// Why a relay and not a publish in the claim's transaction: the claim and its outbox row commit
// together in SQLite; the relay publishes committed rows afterwards and marks them relayed. A
// crash between publish and mark publishes the row again (a duplicate delivery, harmless: the
// wallet call is idempotent by order number and completion is idempotent in the ledger). A
// crash before publish leaves the row unrelayed, so it is published after restart. Nothing is
// lost between commit and publish.
//
// Redis is not the truth: a row relayed but still pending after republish_after_ms (Redis
// flushed or restarted without persistence) is published again; and while Redis is unreachable
// Lease() leases straight from the outbox (the embedded queue), so transfers slow down, never
// stop. Retries go back through the outbox (core's RetryTaskTx resets the row for the relay), so
// backoff survives a crash. Thread-safe; Start() runs the relay, Stop() joins it.
#pragma once

#include <atomic>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>

#include "common/clock.h"
#include "common/periodic.h"
#include "server/async/options.h"
#include "server/async/outbox_queue.h"
#include "server/async/task_queue.h"
#include "server/base/redis_stream.h"
#include "server/ledger/engine.h"

namespace rp::async {

struct StreamQueueOptions {
  std::string key = "rp:tasks";
  std::string consumer = "rp-server";  // One name per process; XAUTOCLAIM re-claims by idleness.
  StreamRelayOptions relay;            // The async.* keys of the relay.
  // The lane the stream carries (transfers and refunds: the seed's MQ); another lane's tasks are
  // leased from the outbox. kAll: every task goes through the stream.
  ledger::TaskLane lane = ledger::TaskLane::kWallet;
};

struct StreamQueueStats {
  int64_t relayed = 0;          // Outbox rows published (including republished).
  int64_t fallback_leases = 0;  // Leases served from the outbox because Redis failed.
  int64_t redis_errors = 0;
  int64_t backlog = 0;  // Stream entries not yet acknowledged, as of the last relay pass.
  int64_t lag_ms = 0;   // Age of the oldest of them.
};

class StreamQueue final : public TaskQueue {
 public:
  // Pointers are not owned and must outlive the queue.
  StreamQueue(ledger::Engine* ledger, base::RedisPool* redis, const Clock* clock,
              StreamQueueOptions options);
  ~StreamQueue() override;
  void Start();
  void Stop();

  Result<std::vector<Task>> Lease(int max, int64_t lease_ms, ledger::TaskLane lane) override;
  // The outbox's own leases (the other lane, the fallback) go back to it; a stream entry stays
  // pending in its group until another consumer reclaims it after lease_ms.
  void Return(const std::vector<Task>& tasks) override;
  // Acks the task's stream entry (its outcome is in the ledger); a failed ack re-delivers it,
  // which the ledger and the downstream order numbers make harmless.
  void Release(const Task& task) override;
  void WaitForWork(int64_t timeout_ms) override;
  void Notify() override;
  void RegisterMetrics(metrics::Hub& hub) override;

  // One relay pass: publishes due, unrelayed outbox rows. Returns how many (tests call it
  // directly; the relay thread calls it periodically).
  Result<int64_t> RelayOnce();
  StreamQueueStats Stats() const;

 private:
  ledger::Engine* ledger_;
  const Clock* clock_;
  const StreamQueueOptions options_;
  OutboxQueue outbox_;  // The ledger side: completions, retries, and the fallback lease.
  base::RedisStream stream_;
  std::atomic<int64_t> relayed_{0}, fallback_leases_{0}, redis_errors_{0}, backlog_{0}, lag_ms_{0};
  std::unique_ptr<Periodic> relay_;
};

}  // namespace rp::async
