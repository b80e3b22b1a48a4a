// BlockingPool: a few threads for work that blocks on I/O (calls to downstream services, Redis),
// so that event-loop threads never do. Bounded twice, so that a slow dependency cannot pile up
// requests that wait for minutes:
//   - in count: Submit() refuses work beyond queue_max;
//   - in time, when queue_wait_ms_max > 0: Submit() refuses at once when the expected wait for
//     a thread (queued items per thread x the recent time of one item) is beyond the bound, and
//     an item that still waited longer than the bound is not run: its `refused` callback gets
//     Overloaded instead, from the pool's watcher thread as soon as the bound passes (or from a
//     worker, whichever sees it first). So every item Submit() accepted either starts within
//     queue_wait_ms_max or is answered by then.
// Stop() runs (or refuses, when they waited too long) what was accepted, then joins.
// Thread-safe. Used by rp-server (its bulkheads) and rp-mock. Waits are measured on the
// monotonic clock: they are durations, never records.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "common/status.h"

namespace rp {

// Monotonic counts and the current queue, for /metrics.
struct PoolStats {
  int64_t queued = 0;          // Waiting for a thread now.
  int64_t refused_full = 0;    // Submit() refused: the queue held queue_max items.
  int64_t refused_wait = 0;    // Refused by time: expected wait beyond the bound at Submit(), or
                               // waited beyond it in the queue (never run).
  int64_t service_ms_avg = 0;  // Recent time of one item on a thread (moving average).
};

class BlockingPool {
 public:
  // name appears in refusal messages ("the social pool is full") and, as "rp-<name>", in the
  // threads' names (common/thread_name.h). queue_wait_ms_max 0: items wait however long.
  BlockingPool(int threads, int queue_max, std::string name = "blocking",
               int64_t queue_wait_ms_max = 0);
  ~BlockingPool();
  BlockingPool(const BlockingPool&) = delete;
  BlockingPool& operator=(const BlockingPool&) = delete;

  // Overloaded when the queue is full, when the expected wait is beyond queue_wait_ms_max, or
  // the pool is stopping; work is then not run and refused is not called. Once accepted, exactly
  // one of work and refused runs: refused (with Overloaded, on a pool thread) when the item
  // waited beyond queue_wait_ms_max. An item without refused is never refused once accepted:
  // it runs whatever its wait.
  Status Submit(std::function<void()> work, std::function<void(Status)> refused = {});
  void Stop();
  int64_t queued() const;
  PoolStats stats() const;
  const std::string& name() const { return name_; }

 private:
  struct Item {
    std::function<void()> work;
    std::function<void(Status)> refused;
    int64_t enqueued_ns = 0;
  };
  void Loop();
  void Watch();  // The watcher thread: refuses items at the head once they waited too long.
  bool Expired(const Item& item, int64_t now_ns) const;
  // With mu_ held: the expected wait of an item queued now.
  int64_t ExpectedWaitNsLocked() const;
  Status TooLong() const;

  const int threads_n_;
  const int queue_max_;
  const std::string name_;
  const int64_t queue_wait_ns_max_;
  mutable std::mutex mu_;
  std::condition_variable cv_;        // Workers: an item or stop.
  std::condition_variable watch_cv_;  // Watcher: a new head or stop.
  std::deque<Item> queue_;
  bool stopping_ = false;
  int busy_ = 0;                // Threads running an item.
  int64_t service_ns_avg_ = 0;  // Moving average of an item's time on a thread.
  PoolStats stats_;
  std::vector<std::thread> threads_;
};

}  // namespace rp
