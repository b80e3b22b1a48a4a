// BlockingPool: a few threads for work that blocks on I/O (calls to downstream services, Redis),
// so that event-loop threads never do. Bounded: Submit() refuses work beyond queue_max instead
// of letting a slow dependency pile up unbounded requests. Stop() runs what was accepted, then
// joins. Thread-safe. Used by rp-server (its bulkheads) and rp-mock.
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

class BlockingPool {
 public:
  // name appears in the refusal message ("the social pool is full") and, as "rp-<name>", in
  // the threads' names (common/thread_name.h).
  BlockingPool(int threads, int queue_max, std::string name = "blocking");
  ~BlockingPool();
  BlockingPool(const BlockingPool&) = delete;
  BlockingPool& operator=(const BlockingPool&) = delete;

  // Overloaded when the queue is full or the pool is stopping; work is then not run.
  Status Submit(std::function<void()> work);
  void Stop();
  int64_t queued() const;

 private:
  void Loop();
  const int queue_max_;
  const std::string name_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::function<void()>> queue_;
  bool stopping_ = false;
  std::vector<std::thread> threads_;
};

}  // namespace rp
