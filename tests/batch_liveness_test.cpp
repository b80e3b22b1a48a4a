// The batched claim scheme when the ledger fails a job without ever starting its transaction (a
// connection lost before BEGIN, a job whose deadline passed in the queue): every claim — those
// in the failed batch and those arriving while it fails — is answered exactly once, and the
// packet's next claims start a new batch. Claims and failures race on several threads, so this
// suite also runs under ThreadSanitizer (`./rp test tsan`): the batch's shared state must be
// touched only under its lock.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <thread>
#include <vector>

#include "common/clock.h"
#include "server/core/scheme_registry.h"

namespace rp::core {
namespace {

// An engine whose database is gone: each job is answered storage_busy from the engine's own
// thread, its transaction never started (fn is never called), as the PostgreSQL engine does
// when it cannot reconnect.
class LostConnectionEngine final : public ledger::Engine {
 public:
  LostConnectionEngine() : thread_([this] { Loop(); }) {}
  ~LostConnectionEngine() override { Stop(); }

  Status Submit(ledger::WriteJob job) override {
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (stopping_) return Status(Error::kShuttingDown, "stopping");
      queue_.push_back(std::move(job));
      ++submitted_;
    }
    cv_.notify_one();
    return Status::Ok();
  }
  Status Read(const std::function<Status(ledger::ReadTx&)>& /*fn*/) override {
    return Status(Error::kStorageBusy, "ledger connection lost");
  }
  ledger::EngineStats Stats() const override { return {}; }
  void Stop() override {
    {
      std::lock_guard<std::mutex> lock(mu_);
      stopping_ = true;
    }
    cv_.notify_all();
    if (thread_.joinable()) thread_.join();
  }
  void RegisterMetrics(metrics::Hub& /*hub*/, const std::string& /*scheme*/) override {}
  int64_t submitted() {
    std::lock_guard<std::mutex> lock(mu_);
    return submitted_;
  }

 private:
  void Loop() {
    std::unique_lock<std::mutex> lock(mu_);
    for (;;) {
      cv_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
      if (queue_.empty()) return;
      ledger::WriteJob job = std::move(queue_.front());
      queue_.pop_front();
      lock.unlock();
      job.done(Status(Error::kStorageBusy, "ledger connection lost"));
      lock.lock();
    }
  }

  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<ledger::WriteJob> queue_;
  bool stopping_ = false;
  int64_t submitted_ = 0;
  std::thread thread_;
};

TEST(BatchLivenessTest, EveryClaimIsAnsweredWhenTheLedgerFailsJobsBeforeTheyStart) {
  LostConnectionEngine engine;
  SystemClock clock;
  ClaimSchemeDeps deps;
  deps.ledger = &engine;
  deps.clock = &clock;
  deps.options.batch_max = 256;
  Result<std::unique_ptr<ClaimScheme>> scheme = MakeClaimScheme("batched", deps);
  ASSERT_TRUE(scheme.ok()) << scheme.status().message();
  constexpr int kThreads = 8, kClaimsPerThread = 500;
  std::atomic<int> answered{0}, answered_twice{0}, refused{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kClaimsPerThread; ++i) {
        auto once = std::make_shared<std::atomic<bool>>(false);
        (*scheme)->Claim(/*packet_id=*/42, 1000 + t * kClaimsPerThread + i,
                         [&, once](Result<ClaimOutcome> r) {
                           if (once->exchange(true)) ++answered_twice;
                           refused += !r.ok() && r.status().Is(Error::kStorageBusy);
                           ++answered;
                         });
      }
    });
  }
  for (auto& th : threads) th.join();
  constexpr int kClaims = kThreads * kClaimsPerThread;
  // The engine answers every job it took; once they are all answered, so is every claim.
  const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (answered.load() < kClaims && std::chrono::steady_clock::now() < give_up) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_EQ(answered.load(), kClaims) << "claims left in a batch nobody runs";
  EXPECT_EQ(refused.load(), kClaims);
  EXPECT_EQ(answered_twice.load(), 0);
  // Later claims started new batches instead of joining the failed ones.
  EXPECT_GT(engine.submitted(), 1);
  engine.Stop();
}

}  // namespace
}  // namespace rp::core
