#include "common/blocking_pool.h"

#include "common/check.h"
#include "common/thread_name.h"

namespace rp {

BlockingPool::BlockingPool(int threads, int queue_max, std::string name)
    : queue_max_(queue_max), name_(std::move(name)) {
  RP_CHECK(threads >= 1 && queue_max >= 1);
  for (int i = 0; i < threads; ++i)
    threads_.push_back(NamedThread("rp-" + name_, [this] { Loop(); }));
}

BlockingPool::~BlockingPool() {
  Stop();
}

Status BlockingPool::Submit(std::function<void()> work) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (stopping_) return Status(Error::kShuttingDown, "the " + name_ + " pool is stopping");
    if (static_cast<int>(queue_.size()) >= queue_max_) {
      return Overloaded("the " + name_ + " pool is full; retry later");
    }
    queue_.push_back(std::move(work));
  }
  cv_.notify_one();
  return Status::Ok();
}

int64_t BlockingPool::queued() const {
  std::lock_guard<std::mutex> lock(mu_);
  return static_cast<int64_t>(queue_.size());
}

void BlockingPool::Stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  for (auto& t : threads_) {
    if (t.joinable()) t.join();
  }
  threads_.clear();
}

void BlockingPool::Loop() {
  for (;;) {
    std::function<void()> work;
    {
      std::unique_lock<std::mutex> lock(mu_);
      cv_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
      if (queue_.empty()) return;
      work = std::move(queue_.front());
      queue_.pop_front();
    }
    work();
  }
}

}  // namespace rp
