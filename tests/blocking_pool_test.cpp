// BlockingPool's bounds in time: an item that waited past queue_wait_ms_max is answered with
// Overloaded without running, while every thread is still busy (not when one frees); Submit()
// refuses at once when the expected wait is past the bound; an item with no refusal callback
// runs whatever its wait. Threads are held busy by latches, not by sleeping.
#include <gtest/gtest.h>

#include <chrono>
#include <future>
#include <latch>
#include <thread>

#include "common/blocking_pool.h"
#include "common/clock.h"

namespace rp {
namespace {

constexpr int64_t kWaitMsMax = 50;

int64_t MsSince(int64_t start_ns) {
  return (MonotonicNs() - start_ns) / 1'000'000;
}

TEST(BlockingPool, AnItemThatWaitedPastTheBoundIsRefusedWithoutRunningWhileThreadsAreBusy) {
  BlockingPool pool(1, 16, "reward", kWaitMsMax);
  std::latch release(1);
  ASSERT_TRUE(pool.Submit([&] { release.wait(); }).ok());  // The only thread, held.
  bool ran = false;
  std::promise<Status> refused;
  const int64_t queued_ns = MonotonicNs();
  ASSERT_TRUE(
      pool.Submit([&] { ran = true; }, [&](Status s) { refused.set_value(std::move(s)); }).ok());
  std::future<Status> answer = refused.get_future();
  // Answered although the thread is still held: the pool does not wait for a thread to refuse.
  ASSERT_EQ(answer.wait_for(std::chrono::seconds(30)), std::future_status::ready);
  const Status s = answer.get();
  EXPECT_GE(MsSince(queued_ns), kWaitMsMax);
  EXPECT_TRUE(s.Is(Error::kOverloaded)) << s.ToString();
  EXPECT_NE(s.message().find("the reward pool is busy"), std::string::npos) << s.message();
  release.count_down();
  pool.Stop();
  EXPECT_FALSE(ran);
  EXPECT_EQ(pool.stats().refused_wait, 1);
}

TEST(BlockingPool, AnItemWithoutARefusalRunsWhateverItsWait) {
  BlockingPool pool(1, 16, "limits", kWaitMsMax);
  std::latch release(1);
  ASSERT_TRUE(pool.Submit([&] { release.wait(); }).ok());
  std::promise<void> ran;
  ASSERT_TRUE(pool.Submit([&] { ran.set_value(); }).ok());  // Queued first: waits longest.
  std::promise<void> later_refused;
  ASSERT_TRUE(pool.Submit([] {}, [&](const Status&) { later_refused.set_value(); }).ok());
  later_refused.get_future().wait();  // So the first one, too, has waited past the bound.
  release.count_down();
  EXPECT_EQ(ran.get_future().wait_for(std::chrono::seconds(30)), std::future_status::ready);
  pool.Stop();
}

TEST(BlockingPool, SubmitRefusesAtOnceWhenTheExpectedWaitIsPastTheBound) {
  BlockingPool pool(1, 16, "social", kWaitMsMax);
  // One slow item teaches the pool how long an item takes: well over the bound.
  std::promise<void> slow_done;
  ASSERT_TRUE(pool.Submit([&] {
                    std::this_thread::sleep_for(std::chrono::milliseconds(kWaitMsMax * 20));
                    slow_done.set_value();
                  })
                  .ok());
  slow_done.get_future().wait();
  while (pool.stats().service_ms_avg == 0) std::this_thread::yield();  // Recorded after the work.
  EXPECT_GT(pool.stats().service_ms_avg, kWaitMsMax);
  // A free thread: no wait expected, admitted.
  std::latch release(1);
  ASSERT_TRUE(pool.Submit([&] { release.wait(); }).ok());
  // The thread busy with an item that takes that long: the next would wait past the bound.
  bool refused_called = false;
  const Status s = pool.Submit([] {}, [&](const Status&) { refused_called = true; });
  EXPECT_TRUE(s.Is(Error::kOverloaded)) << s.ToString();
  EXPECT_NE(s.message().find("the social pool is busy"), std::string::npos) << s.message();
  release.count_down();
  pool.Stop();
  EXPECT_FALSE(refused_called);  // A refusal at Submit() is its return value only.
  EXPECT_EQ(pool.stats().refused_wait, 1);
}

TEST(BlockingPool, TheQueueIsBoundedInCountToo) {
  BlockingPool pool(1, 2, "recon");
  std::latch release(1);
  std::promise<void> started;
  ASSERT_TRUE(pool.Submit([&] {
                    started.set_value();
                    release.wait();
                  })
                  .ok());
  started.get_future().wait();  // Off the queue, on the thread.
  EXPECT_TRUE(pool.Submit([] {}).ok());
  EXPECT_TRUE(pool.Submit([] {}).ok());
  const Status full = pool.Submit([] {});
  EXPECT_TRUE(full.Is(Error::kOverloaded));
  EXPECT_NE(full.message().find("the recon pool is full"), std::string::npos) << full.message();
  EXPECT_EQ(pool.stats().refused_full, 1);
  release.count_down();
  pool.Stop();
}

}  // namespace
}  // namespace rp
