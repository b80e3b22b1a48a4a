#include "common/blocking_pool.h"

#include <chrono>

#include "common/check.h"
#include "common/clock.h"
#include "common/thread_name.h"

namespace rp {

namespace {
// The moving average of an item's time weighs the newest item this much (1/kAverageWeight):
// a dependency that turns slow shows within a few calls, one slow call does not dominate.
constexpr int64_t kAverageWeight = 4;
}  // namespace

BlockingPool::BlockingPool(int threads, int queue_max, std::string name, int64_t queue_wait_ms_max)
    : threads_n_(threads),
      queue_max_(queue_max),
      name_(std::move(name)),
      queue_wait_ns_max_(queue_wait_ms_max * 1'000'000) {
  RP_CHECK(threads >= 1 && queue_max >= 1 && queue_wait_ms_max >= 0);
  for (int i = 0; i < threads; ++i)
    threads_.push_back(NamedThread("rp-" + name_, [this] { Loop(); }));
  if (queue_wait_ns_max_ > 0) threads_.push_back(NamedThread("rp-" + name_, [this] { Watch(); }));
}

BlockingPool::~BlockingPool() {
  Stop();
}

Status BlockingPool::TooLong() const {
  return Overloaded("the " + name_ + " pool is busy: a request would wait more than " +
                    std::to_string(queue_wait_ns_max_ / 1'000'000) + " ms for it; retry later");
}

int64_t BlockingPool::ExpectedWaitNsLocked() const {
  if (busy_ + static_cast<int>(queue_.size()) < threads_n_) return 0;  // A thread is free.
  return (static_cast<int64_t>(queue_.size()) + 1) * service_ns_avg_ / threads_n_;
}

bool BlockingPool::Expired(const Item& item, int64_t now_ns) const {
  return queue_wait_ns_max_ > 0 && item.refused && now_ns - item.enqueued_ns > queue_wait_ns_max_;
}

Status BlockingPool::Submit(std::function<void()> work, std::function<void(Status)> refused) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (stopping_) return Status(Error::kShuttingDown, "the " + name_ + " pool is stopping");
    if (static_cast<int>(queue_.size()) >= queue_max_) {
      ++stats_.refused_full;
      return Overloaded("the " + name_ + " pool is full; retry later");
    }
    if (queue_wait_ns_max_ > 0 && ExpectedWaitNsLocked() > queue_wait_ns_max_) {
      ++stats_.refused_wait;
      return TooLong();
    }
    queue_.push_back(Item{std::move(work), std::move(refused), MonotonicNs()});
  }
  cv_.notify_one();
  watch_cv_.notify_one();
  return Status::Ok();
}

int64_t BlockingPool::queued() const {
  std::lock_guard<std::mutex> lock(mu_);
  return static_cast<int64_t>(queue_.size());
}

PoolStats BlockingPool::stats() const {
  std::lock_guard<std::mutex> lock(mu_);
  PoolStats s = stats_;
  s.queued = static_cast<int64_t>(queue_.size());
  s.service_ms_avg = service_ns_avg_ / 1'000'000;
  return s;
}

void BlockingPool::Stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  watch_cv_.notify_all();
  for (auto& t : threads_) {
    if (t.joinable()) t.join();
  }
  threads_.clear();
}

void BlockingPool::Loop() {
  for (;;) {
    Item item;
    {
      std::unique_lock<std::mutex> lock(mu_);
      cv_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
      if (queue_.empty()) return;
      item = std::move(queue_.front());
      queue_.pop_front();
      ++busy_;
    }
    const int64_t start_ns = MonotonicNs();
    const bool expired = Expired(item, start_ns);
    if (expired) {
      item.refused(TooLong());
    } else {
      item.work();
    }
    const int64_t took_ns = MonotonicNs() - start_ns;
    std::lock_guard<std::mutex> lock(mu_);
    --busy_;
    if (expired) {
      ++stats_.refused_wait;
    } else {
      service_ns_avg_ += (took_ns - service_ns_avg_) / kAverageWeight;
    }
  }
}

void BlockingPool::Watch() {
  std::unique_lock<std::mutex> lock(mu_);
  while (!stopping_) {
    // The queue is in order of arrival: the expired items are at its head, except those that
    // cannot be refused (no callback), which wait for a worker.
    const int64_t now_ns = MonotonicNs();
    std::vector<Item> late;
    int64_t next_ns = 0;  // When the oldest item still in time expires; 0: none queued.
    for (auto it = queue_.begin(); it != queue_.end();) {
      if (now_ns - it->enqueued_ns <= queue_wait_ns_max_) {
        next_ns = it->enqueued_ns + queue_wait_ns_max_ + 1;
        break;
      }
      if (!it->refused) {
        ++it;
        continue;
      }
      late.push_back(std::move(*it));
      it = queue_.erase(it);
    }
    if (!late.empty()) {
      stats_.refused_wait += static_cast<int64_t>(late.size());
      lock.unlock();
      for (Item& item : late) item.refused(TooLong());
      lock.lock();
      continue;
    }
    if (next_ns == 0) {
      watch_cv_.wait(lock);  // Woken by Submit() or Stop().
    } else {
      watch_cv_.wait_for(lock, std::chrono::nanoseconds(next_ns - now_ns));
    }
  }
}

}  // namespace rp
