// RedisPipeline: Lua scripts on one Redis connection, sent in batches (pipelining) by one thread
// of its own, each caller completed through a callback. A claim's Redis step used to hold a
// pool thread for a whole round trip (a write, a wait, a read, two thread wake-ups per claim);
// here every script queued meanwhile travels in one write and comes back in one read.
//
// Order: scripts run in Redis in the order EvalInt() accepted them, and their completions run
// one at a time, on the pipeline's thread, in the order the scripts took effect in Redis. So when
// a completion runs, the completion of every script that ran in Redis before it has returned — a
// caller may register what a script did in its completion and rely on it in a later one. (A
// script Redis did not know — restarted, SCRIPT FLUSH — has no effect; it is loaded and runs
// again after the rest of its batch, and completes then.)
//
// Bounded: queue_max scripts waiting, batch_max per batch, each socket read or write under the
// Redis deadline. Redis is an accelerator: every failure completes as Unavailable
// ("redis_unavailable") and the connection is dropped and re-dialled for the next batch; a
// script whose reply was lost may or may not have run (as with any Redis client). Thread-safe.
#pragma once

#include <hiredis/hiredis.h>

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "common/status.h"
#include "server/base/redis_client.h"

namespace rp::base {

// A Lua script and its SHA1 (EVALSHA's key), computed once. Immutable; share it freely.
struct RedisScript {
  explicit RedisScript(std::string text);
  std::string text;
  std::string sha;
};

struct RedisPipelineOptions {
  RedisOptions redis;    // host, port, deadline_ms (connect and every socket read or write).
  int queue_max = 8192;  // Scripts waiting; beyond it EvalInt() refuses (Overloaded).
  int batch_max = 256;   // Scripts written together, at most.
};

class RedisPipeline {
 public:
  using IntDone = std::function<void(Result<int64_t>)>;

  explicit RedisPipeline(RedisPipelineOptions options);
  ~RedisPipeline();  // Stop().
  // Runs what is queued (each batch within the deadline) and joins the thread; EvalInt() refuses
  // from then on (ShuttingDown). Idempotent; not from a completion.
  void Stop();
  RedisPipeline(const RedisPipeline&) = delete;
  RedisPipeline& operator=(const RedisPipeline&) = delete;

  // Queues `script` (which must outlive the call's completion) with its keys and arguments. OK:
  // done will be called exactly once, on the pipeline's thread, with the script's integer reply
  // or Unavailable; it must not block (it delays every completion behind it). Non-OK
  // (Overloaded: the queue is full; ShuttingDown): done is never called.
  [[nodiscard]] Status EvalInt(const RedisScript& script, std::vector<std::string> keys,
                               std::vector<std::string> args, IntDone done);

  int64_t errors() const { return errors_.load(); }
  int64_t batches() const { return batches_.load(); }
  int64_t scripts() const { return scripts_.load(); }

 private:
  struct Call {
    const RedisScript* script = nullptr;
    std::vector<std::string> keys, args;
    IntDone done;
  };
  void Loop();
  // Writes the batch, reads its replies in order, completes each; scripts Redis did not know
  // are loaded and run once more (retry) after the rest. Never inlined: rp-sim --exact counts
  // the Redis round trips inside it (callgrind --toggle-collect needs its entry).
  [[gnu::noinline]] void RunBatch(std::vector<Call>& batch, bool retry);
  bool Connect(std::vector<Call>& batch);  // False: the batch was completed with the error.
  void Fail(std::vector<Call>& batch, size_t from, const std::string& why);
  void Disconnect();

  const RedisPipelineOptions options_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Call> queue_;
  bool stopping_ = false;
  redisContext* ctx_ = nullptr;  // The pipeline thread's alone.
  std::atomic<int64_t> errors_{0};
  std::atomic<int64_t> batches_{0};
  std::atomic<int64_t> scripts_{0};
  std::thread thread_;  // Last: started once everything it uses exists.
};

}  // namespace rp::base
