// BlockingPool: a few threads for work that blocks on I/O (calls to downstream services) so
// that HTTP I/O threads never do. Bounded: Submit() refuses work beyond queue_max instead of
// letting a slow dependency pile up unbounded requests. Stop() runs what was accepted, then
// joins. Thread-safe.
#pragma once

#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

#include "common/status.h"

namespace rp::base {

class BlockingPool {
 public:
  BlockingPool(int threads, int queue_max);
  ~BlockingPool();
  // Unavailable("overloaded") when the queue is full or the pool is stopping.
  Status Submit(std::function<void()> work);
  void Stop();

 private:
  void Loop();
  const int queue_max_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::function<void()>> queue_;
  bool stopping_ = false;
  std::vector<std::thread> threads_;
};

}  // namespace rp::base
