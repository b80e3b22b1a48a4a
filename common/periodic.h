// Periodic: runs a function every interval on its own thread until stopped — the scheduled
// tasks of the seed (expiry, stuck-order scans, subsidy settling, reconciliation). The function
// returns the delay before its next run, so a pass that hit its batch limit can ask to run
// again at once. Stop() wakes the sleeper and joins. Thread-safe.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <string>
#include <thread>

#include "common/thread_name.h"

namespace rp {

class Periodic {
 public:
  // fn returns the milliseconds to wait before the next run; thread_name names its thread (see
  // common/thread_name.h).
  Periodic(std::string thread_name, std::function<int64_t()> fn)
      : thread_name_(std::move(thread_name)), fn_(std::move(fn)) {}
  ~Periodic() { Stop(); }
  Periodic(const Periodic&) = delete;
  Periodic& operator=(const Periodic&) = delete;

  // Waits first_delay_ms, then runs fn repeatedly.
  void Start(int64_t first_delay_ms) {
    thread_ = NamedThread(thread_name_, [this, first_delay_ms] {
      std::unique_lock<std::mutex> lock(mu_);
      int64_t delay_ms = first_delay_ms;
      while (!cv_.wait_for(lock, std::chrono::milliseconds(delay_ms), [this] { return stop_; })) {
        lock.unlock();
        delay_ms = fn_();
        lock.lock();
      }
    });
  }

  void Stop() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      stop_ = true;
    }
    cv_.notify_all();
    if (thread_.joinable()) thread_.join();
  }

 private:
  const std::string thread_name_;
  std::function<int64_t()> fn_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;
  std::thread thread_;
};

}  // namespace rp
