#include "server/testing/fault_injection.h"

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <deque>
#include <functional>
#include <map>
#include <mutex>
#include <queue>
#include <string>
#include <thread>
#include <vector>

namespace rp::testing {
namespace {

// A scheme that hands everything but Claim to the scheme it wraps: the broken servers below
// change only how claims are answered.
class WrappedScheme : public core::ClaimScheme {
 public:
  explicit WrappedScheme(std::unique_ptr<core::ClaimScheme> inner) : inner_(std::move(inner)) {}
  std::string_view name() const override { return inner_->name(); }
  core::SchemeStats Stats() const override { return inner_->Stats(); }
  Status PrepareNewPacket(ledger::Tx& tx, const ledger::PacketRecord& p) override {
    return inner_->PrepareNewPacket(tx, p);
  }
  void NewPacketCommitted(const ledger::PacketRecord& p) override { inner_->NewPacketCommitted(p); }
  Status DropCachedState(const std::vector<int64_t>& ids) override {
    return inner_->DropCachedState(ids);
  }
  void Stop() override { inner_->Stop(); }

 protected:
  std::unique_ptr<core::ClaimScheme> inner_;
};

class PhantomClaims final : public WrappedScheme {
 public:
  using WrappedScheme::WrappedScheme;

  void Claim(int64_t packet_id, int64_t user_id, core::ClaimDone done) override {
    inner_->Claim(packet_id, user_id,
                  [this, packet_id, user_id, done](Result<core::ClaimOutcome> r) {
                    if (r.ok() || !r.status().Is(Error::kSoldOut) || ++sold_out_ % 10 != 0)
                      return done(std::move(r));
                    core::ClaimOutcome lie;
                    lie.claim = {900'000'000 + sold_out_.load(),       packet_id, user_id, 1, 1,
                                 ledger::ClaimState::kTransferPending, 0};
                    done(lie);
                  });
  }

 private:
  std::atomic<int64_t> sold_out_{0};
};

// Runs callbacks after a delay, on its own thread, in due order. At destruction the ones still
// waiting run at once, so no claim is left unanswered at shutdown.
class Delayer {
 public:
  Delayer() : thread_([this] { Loop(); }) {}
  ~Delayer() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      stop_ = true;
    }
    cv_.notify_all();
    thread_.join();
  }
  void After(std::chrono::steady_clock::duration delay, std::function<void()> fn) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      due_.push({std::chrono::steady_clock::now() + delay, seq_++, std::move(fn)});
    }
    cv_.notify_all();
  }

 private:
  struct Item {
    std::chrono::steady_clock::time_point at;
    uint64_t seq;
    std::function<void()> fn;
    bool operator>(const Item& o) const { return at != o.at ? at > o.at : seq > o.seq; }
  };
  void Loop() {
    std::unique_lock<std::mutex> lock(mu_);
    for (;;) {
      if (due_.empty()) {
        if (stop_) return;
        cv_.wait(lock);
        continue;
      }
      // A copy: After() may grow the heap (and move its items) while this thread waits.
      const std::chrono::steady_clock::time_point next = due_.top().at;
      if (!stop_ && std::chrono::steady_clock::now() < next) {
        cv_.wait_until(lock, next);
        continue;
      }
      std::function<void()> fn = std::move(const_cast<Item&>(due_.top()).fn);
      due_.pop();
      lock.unlock();
      fn();
      lock.lock();
    }
  }
  std::mutex mu_;
  std::condition_variable cv_;
  std::priority_queue<Item, std::vector<Item>, std::greater<>> due_;
  uint64_t seq_ = 0;
  bool stop_ = false;
  std::thread thread_;
};

// A claim path twice as slow, for the test that proves `rp-sim regress` catches it: one claim
// per packet at a time, each held for as long again as the scheme took before it is answered
// and the packet's next claim starts. On a hot packet (claims already serialised on its row)
// that doubles the time each claim holds the packet.
class SlowClaims final : public WrappedScheme {
 public:
  using WrappedScheme::WrappedScheme;
  // Shutting down: claims still waiting are answered `closed` instead of started.
  ~SlowClaims() override { stopping_ = true; }
  void Claim(int64_t packet_id, int64_t user_id, core::ClaimDone done) override {
    {
      std::lock_guard<std::mutex> lock(mu_);
      auto [it, first] = waiting_.try_emplace(packet_id);
      if (!first) {  // One of this packet's claims is in flight: wait for it.
        it->second.push_back({user_id, std::move(done)});
        return;
      }
    }
    Start(packet_id, user_id, std::move(done));
  }

 private:
  struct Waiting {
    int64_t user_id;
    core::ClaimDone done;
  };
  void Start(int64_t packet_id, int64_t user_id, core::ClaimDone done) {
    const auto started = std::chrono::steady_clock::now();
    inner_->Claim(packet_id, user_id,
                  [this, packet_id, started, done = std::move(done)](Result<core::ClaimOutcome> r) {
                    if (stopping_) return done(std::move(r));
                    delayer_.After(std::chrono::steady_clock::now() - started,
                                   [this, packet_id, done, r = std::move(r)]() mutable {
                                     done(std::move(r));
                                     Next(packet_id);
                                   });
                  });
  }
  void Next(int64_t packet_id) {
    Waiting next;
    {
      std::lock_guard<std::mutex> lock(mu_);
      auto it = waiting_.find(packet_id);
      if (it->second.empty()) {
        waiting_.erase(it);
        return;
      }
      next = std::move(it->second.front());
      it->second.pop_front();
    }
    if (stopping_) {
      next.done(Status(Error::kClosed, "the server is stopping"));
      return Next(packet_id);
    }
    Start(packet_id, next.user_id, std::move(next.done));
  }

  std::atomic<bool> stopping_{false};
  std::mutex mu_;
  // Per packet with a claim in flight: the claims waiting behind it (bounded by the server's
  // own bound on requests in flight).
  std::map<int64_t, std::deque<Waiting>> waiting_;
  Delayer delayer_;  // Destroyed first: answers what still waits.
};

// A claim path that costs more CPU, for the tests that prove the cost gates catch a small
// regression: every claim runs `iterations` turns of a loop the compiler cannot remove, on the
// thread that starts it, before the scheme does. The loop's instruction count per turn is fixed,
// so under callgrind the plant is exact; in CPU time it is as steady as the machine.
class ExtraWork final : public WrappedScheme {
 public:
  ExtraWork(std::unique_ptr<core::ClaimScheme> inner, int64_t iterations)
      : WrappedScheme(std::move(inner)), iterations_(iterations) {}
  void Claim(int64_t packet_id, int64_t user_id, core::ClaimDone done) override {
    uint64_t x = static_cast<uint64_t>(packet_id) ^ static_cast<uint64_t>(user_id);
    for (int64_t i = 0; i < iterations_; ++i) {
      x = x * 6364136223846793005ull + 1442695040888963407ull;
      asm volatile("" : "+r"(x));  // Keeps every turn: the result is "used".
    }
    inner_->Claim(packet_id, user_id, std::move(done));
  }

 private:
  const int64_t iterations_;
};

// RP_INJECT_WORK_ITERATIONS, or 0 when unset or not a positive number below 10^9.
int64_t ExtraWorkIterations() {
  const char* text = std::getenv("RP_INJECT_WORK_ITERATIONS");
  if (text == nullptr) return 0;
  char* end = nullptr;
  const long long n = std::strtoll(text, &end, 10);
  return end != text && *end == '\0' && n > 0 && n < 1'000'000'000 ? n : 0;
}

}  // namespace

std::unique_ptr<core::ClaimScheme> WrapForFaultInjection(
    std::unique_ptr<core::ClaimScheme> scheme) {
  const char* bug = std::getenv("RP_INJECT_BUG");
  if (bug != nullptr && std::string(bug) == "phantom_claim") {
    return std::make_unique<PhantomClaims>(std::move(scheme));
  }
  const char* only = std::getenv("RP_INJECT_SCHEME");  // Empty or unset: every scheme.
  const bool this_scheme = only == nullptr || *only == '\0' || scheme->name() == only;
  if (bug != nullptr && std::string(bug) == "slow_claims" && this_scheme) {
    return std::make_unique<SlowClaims>(std::move(scheme));
  }
  if (bug != nullptr && std::string(bug) == "extra_work" && this_scheme) {
    if (const int64_t n = ExtraWorkIterations(); n > 0) {
      return std::make_unique<ExtraWork>(std::move(scheme), n);
    }
  }
  return scheme;
}

}  // namespace rp::testing
