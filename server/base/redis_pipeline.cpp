#include "server/base/redis_pipeline.h"

#include <algorithm>
#include <set>

#include "common/check.h"
#include "common/thread_name.h"

namespace rp::base {

RedisScript::RedisScript(std::string script_text)
    : text(std::move(script_text)), sha(RedisScriptSha(text)) {}

RedisPipeline::RedisPipeline(RedisPipelineOptions options) : options_(std::move(options)) {
  RP_CHECK(options_.queue_max > 0 && options_.batch_max > 0);
  thread_ = NamedThread("rp-redis-pipe", [this] { Loop(); });
}

RedisPipeline::~RedisPipeline() {
  Stop();
}

void RedisPipeline::Stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
  }
  cv_.notify_one();
  if (thread_.joinable()) thread_.join();
  Disconnect();  // The thread has ended: the connection is no one's now.
}

Status RedisPipeline::EvalInt(const RedisScript& script, std::vector<std::string> keys,
                              std::vector<std::string> args, IntDone done) {
  RP_CHECK(done);
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (stopping_) return Status(Error::kShuttingDown, "the Redis pipeline is stopping");
    if (static_cast<int>(queue_.size()) >= options_.queue_max) {
      return Overloaded("the Redis pipeline's queue is full");
    }
    queue_.push_back({&script, std::move(keys), std::move(args), std::move(done)});
  }
  cv_.notify_one();
  return Status::Ok();
}

// Waits for scripts and runs them in batches of what queued meanwhile: at low load a batch is
// one script (no added latency), under load one round trip carries many.
void RedisPipeline::Loop() {
  std::vector<Call> batch;
  batch.reserve(static_cast<size_t>(options_.batch_max));
  for (;;) {
    {
      std::unique_lock<std::mutex> lock(mu_);
      cv_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
      if (queue_.empty()) return;  // Stopping, and everything accepted has run.
      const size_t n = std::min(queue_.size(), static_cast<size_t>(options_.batch_max));
      for (size_t i = 0; i < n; ++i) {
        batch.push_back(std::move(queue_.front()));
        queue_.pop_front();
      }
    }
    RunBatch(batch, /*retry=*/false);
    batch.clear();
  }
}

void RedisPipeline::Fail(std::vector<Call>& batch, size_t from, const std::string& why) {
  const Status s = RedisUnavailable(why);
  for (size_t i = from; i < batch.size(); ++i) {
    ++errors_;
    batch[i].done(s);
  }
}

void RedisPipeline::Disconnect() {
  if (ctx_ != nullptr) redisFree(ctx_);
  ctx_ = nullptr;
}

bool RedisPipeline::Connect(std::vector<Call>& batch) {
  if (ctx_ != nullptr) return true;
  const timeval deadline = RedisTimeval(options_.redis.deadline_ms);
  ctx_ = redisConnectWithTimeout(options_.redis.host.c_str(), options_.redis.port, deadline);
  if (ctx_ == nullptr || ctx_->err != 0) {
    const std::string why = ctx_ != nullptr ? ctx_->errstr : "cannot allocate a context";
    Disconnect();
    Fail(batch, 0, why);
    return false;
  }
  redisSetTimeout(ctx_, deadline);
  return true;
}

void RedisPipeline::RunBatch(std::vector<Call>& batch, bool retry) {
  if (batch.empty() || !Connect(batch)) return;
  ++batches_;
  std::vector<const char*> argv;
  std::vector<size_t> lens;
  for (const Call& c : batch) {
    const std::string nkeys = std::to_string(c.keys.size());
    argv.assign({"EVALSHA", c.script->sha.c_str(), nkeys.c_str()});
    lens.assign({7, c.script->sha.size(), nkeys.size()});
    for (const auto* list : {&c.keys, &c.args}) {
      for (const std::string& a : *list) {
        argv.push_back(a.data());
        lens.push_back(a.size());
      }
    }
    // Buffered in hiredis (copied), written by the first read below.
    RP_CHECK(redisAppendCommandArgv(ctx_, static_cast<int>(argv.size()), argv.data(),
                                    lens.data()) == REDIS_OK);
  }
  scripts_ += static_cast<int64_t>(batch.size());
  CountRedisRoundTrip();      // The batch goes out in one write; its replies come back together.
  std::vector<Call> unknown;  // NOSCRIPT: Redis did not run them.
  for (size_t i = 0; i < batch.size(); ++i) {
    void* raw = nullptr;
    if (redisGetReply(ctx_, &raw) != REDIS_OK || raw == nullptr) {
      const std::string why = ctx_->errstr[0] != '\0' ? ctx_->errstr : "no reply";
      Disconnect();  // What follows on this connection can no longer be matched to its call.
      Fail(batch, i, why);
      Fail(unknown, 0, why);
      return;
    }
    auto* reply = static_cast<redisReply*>(raw);
    const std::string err =
        reply->type == REDIS_REPLY_ERROR ? std::string(reply->str, reply->len) : "";
    const bool integer = reply->type == REDIS_REPLY_INTEGER;
    const int64_t value = integer ? reply->integer : 0;
    freeReplyObject(reply);
    if (integer) {
      batch[i].done(value);
    } else if (!retry && err.rfind("NOSCRIPT", 0) == 0) {
      unknown.push_back(std::move(batch[i]));
    } else {
      ++errors_;
      batch[i].done(RedisUnavailable(err.empty() ? "unexpected reply type" : err));
    }
  }
  if (unknown.empty()) return;
  // Restarted or flushed: load each script once, then run those calls again, in their order.
  std::set<const RedisScript*> scripts;
  for (const Call& c : unknown) scripts.insert(c.script);
  for (const RedisScript* script : scripts) {
    CountRedisRoundTrip();
    auto* reply = static_cast<redisReply*>(
        redisCommand(ctx_, "SCRIPT LOAD %b", script->text.data(), script->text.size()));
    const bool loaded = reply != nullptr && reply->type == REDIS_REPLY_STRING;
    if (reply != nullptr) freeReplyObject(reply);
    if (!loaded) {
      const std::string why = ctx_->err != 0 ? ctx_->errstr : "SCRIPT LOAD failed";
      if (ctx_->err != 0) Disconnect();
      return Fail(unknown, 0, why);
    }
  }
  RunBatch(unknown, /*retry=*/true);
}

}  // namespace rp::base
