// RedisPipeline against a real redis-server: scripts run and complete in the order they were
// accepted, many share one round trip, a script Redis forgot (restart, SCRIPT FLUSH) is loaded
// and run again, a dead Redis completes every call promptly as Unavailable and a restarted one
// is used again, the queue is bounded, and everything accepted completes exactly once.
#include <gtest/gtest.h>

#include <future>
#include <mutex>
#include <vector>

#include "server/base/redis_pipeline.h"
#include "tests/support/harness.h"

namespace rp::testing {
namespace {

const base::RedisScript kIncr("return redis.call('INCR', KEYS[1])");

class RedisPipelineTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(redis_.Start().ok()); }

  base::RedisPipelineOptions Options(int queue_max = 8192, int batch_max = 64) {
    auto redis = base::ParseRedisUrl(redis_.url());
    EXPECT_TRUE(redis.ok());
    redis->deadline_ms = 1000;
    return {*redis, queue_max, batch_max};
  }

  // One INCR of "n" through the pipeline, waited for.
  static Result<int64_t> IncrAndWait(base::RedisPipeline& pipeline) {
    std::promise<Result<int64_t>> got;
    EXPECT_TRUE(
        pipeline.EvalInt(kIncr, {"n"}, {}, [&](Result<int64_t> r) { got.set_value(r); }).ok());
    return got.get_future().get();
  }

  TempDir dir_;
  RedisProcess redis_{dir_};
};

// Every completion sees the counter one higher than the one before it: Redis ran the scripts in
// the order they were accepted, and they completed in that order. The first completion holds the
// pipeline's thread until the rest are queued, so they must travel in full batches.
TEST_F(RedisPipelineTest, ScriptsRunAndCompleteInOrderManyPerRoundTrip) {
  constexpr int kCalls = 1000;
  std::vector<int64_t> seen;  // Written only on the pipeline's thread.
  std::promise<void> holding, release, finished;
  std::shared_future<void> released = release.get_future().share();
  {
    base::RedisPipeline pipeline(Options(8192, 64));
    for (int i = 0; i < kCalls; ++i) {
      ASSERT_TRUE(pipeline
                      .EvalInt(kIncr, {"counter"}, {},
                               [&, i](Result<int64_t> r) {
                                 ASSERT_TRUE(r.ok()) << r.status().ToString();
                                 seen.push_back(*r);
                                 if (i == 0) holding.set_value();
                                 if (i == 0) released.wait();
                                 if (i == kCalls - 1) finished.set_value();
                               })
                      .ok());
      if (i == 0) holding.get_future().wait();  // The thread is held: the rest queue up.
    }
    release.set_value();
    finished.get_future().wait();
    // The first went alone and once more after Redis learnt the script; then 64 per batch.
    EXPECT_EQ(pipeline.scripts(), kCalls + 1);
    EXPECT_EQ(pipeline.batches(), 2 + (kCalls - 1 + 63) / 64);
    EXPECT_EQ(pipeline.errors(), 0);
  }
  ASSERT_EQ(seen.size(), static_cast<size_t>(kCalls));
  for (int i = 0; i < kCalls; ++i) ASSERT_EQ(seen[static_cast<size_t>(i)], i + 1) << i;
}

// A script Redis does not know (its cache flushed, as after a restart) is loaded and run.
TEST_F(RedisPipelineTest, AForgottenScriptIsLoadedAndRunAgain) {
  base::RedisPipeline pipeline(Options());
  ASSERT_EQ(*IncrAndWait(pipeline), 1);
  ASSERT_TRUE(redis_.Command({"SCRIPT", "FLUSH"}).ok());
  Result<int64_t> after = IncrAndWait(pipeline);
  ASSERT_TRUE(after.ok()) << after.status().ToString();
  EXPECT_EQ(*after, 2);
  EXPECT_EQ(pipeline.errors(), 0);
}

// Redis gone: each call completes as Unavailable (no hang, nothing lost); once it is back, the
// pipeline dials again and its scripts run (loaded anew: the restarted Redis knows none).
TEST_F(RedisPipelineTest, ADeadRedisFailsCallsPromptlyAndARestartedOneIsUsedAgain) {
  base::RedisPipeline pipeline(Options());
  ASSERT_EQ(*IncrAndWait(pipeline), 1);
  redis_.Kill();
  for (int i = 0; i < 3; ++i) {
    Result<int64_t> down = IncrAndWait(pipeline);
    ASSERT_FALSE(down.ok());
    EXPECT_TRUE(down.status().Is(Error::kRedisUnavailable)) << down.status().ToString();
  }
  EXPECT_EQ(pipeline.errors(), 3);
  ASSERT_TRUE(redis_.Start().ok());  // Empty: no persistence.
  Result<int64_t> back = IncrAndWait(pipeline);
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(*back, 1);
}

// Beyond queue_max waiting calls EvalInt refuses (and never calls that done); whatever it
// accepted completes exactly once, the last of them while the pipeline is being destroyed.
TEST_F(RedisPipelineTest, TheQueueIsBoundedAndEveryAcceptedCallCompletesOnce) {
  std::promise<void> release;
  std::shared_future<void> released = release.get_future().share();
  std::promise<void> holding;
  std::mutex mu;
  std::vector<int> completed;
  int accepted = 0;
  int refused = 0;
  {
    base::RedisPipeline pipeline(Options(/*queue_max=*/4, /*batch_max=*/64));
    ASSERT_TRUE(pipeline
                    .EvalInt(kIncr, {"n"}, {},
                             [&](Result<int64_t>) {
                               holding.set_value();
                               released.wait();  // Holds the thread: the rest must queue.
                               std::lock_guard<std::mutex> lock(mu);
                               completed.push_back(0);
                             })
                    .ok());
    holding.get_future().wait();
    for (int i = 1; i <= 10; ++i) {
      Status s = pipeline.EvalInt(kIncr, {"n"}, {}, [&, i](Result<int64_t>) {
        std::lock_guard<std::mutex> lock(mu);
        completed.push_back(i);
      });
      if (s.ok()) {
        ++accepted;
      } else {
        EXPECT_TRUE(s.Is(Error::kOverloaded)) << s.ToString();
        ++refused;
      }
    }
    release.set_value();
  }  // Destroyed: runs what it accepted, then joins.
  EXPECT_EQ(accepted, 4);
  EXPECT_EQ(refused, 6);
  EXPECT_EQ(completed, (std::vector<int>{0, 1, 2, 3, 4}));
}

// Stop() runs what was accepted, then refuses (ShuttingDown) and never calls a refused done.
TEST_F(RedisPipelineTest, StopFinishesWhatItAcceptedThenRefuses) {
  base::RedisPipeline pipeline(Options());
  std::vector<int64_t> seen;
  for (int i = 0; i < 50; ++i) {
    ASSERT_TRUE(
        pipeline.EvalInt(kIncr, {"n"}, {}, [&](Result<int64_t> r) { seen.push_back(*r); }).ok());
  }
  pipeline.Stop();
  EXPECT_EQ(seen.size(), 50u);
  bool called = false;
  Status late = pipeline.EvalInt(kIncr, {"n"}, {}, [&](Result<int64_t>) { called = true; });
  EXPECT_TRUE(late.Is(Error::kShuttingDown)) << late.ToString();
  pipeline.Stop();  // Idempotent.
  EXPECT_FALSE(called);
}

}  // namespace
}  // namespace rp::testing
