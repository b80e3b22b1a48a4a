// RedisPool: a small, bounded pool of synchronous hiredis connections with a per-command
// deadline, and Lua scripts called by SHA (loaded once; reloaded after a restart or FLUSH that
// forgot them). Redis is an accelerator here, never the truth: every error comes back as
// Unavailable("redis_unavailable") so callers can fall back to the ledger; a broken connection is
// dropped and re-dialled on the next use. Thread-safe.
#pragma once

#include <hiredis/hiredis.h>

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "common/status.h"

namespace rp::base {

struct RedisOptions {
  std::string host = "127.0.0.1";
  int port = 6379;
  int pool_size = 8;         // Connections at most; callers wait for a free one.
  int64_t deadline_ms = 50;  // Connect and per-command timeout.
  int64_t acquire_ms = 100;  // Waiting for a free connection.
};

// A reply, copied out of hiredis so callers never hold its memory.
struct RedisValue {
  enum class Type { kNil, kInteger, kString, kArray };
  Type type = Type::kNil;
  int64_t integer = 0;
  std::string str;  // Bulk strings and status replies.
  std::vector<RedisValue> elements;
};

// Shared by the Redis clients: every failure is this Unavailable("redis: ..."), which callers
// recognise as "fall back to the ledger"; and a script's SHA1 as EVALSHA wants it.
Status RedisUnavailable(const std::string& what);
std::string RedisScriptSha(const std::string& script);
timeval RedisTimeval(int64_t ms);  // A deadline as hiredis takes it.

// Parses "tcp://host:port" (or "redis://host:port").
Result<RedisOptions> ParseRedisUrl(const std::string& url);

// Round trips to Redis since the process started (a command, a pipelined batch, a script
// load), exported as rp_redis_round_trips_total: the work per claim the Redis schemes are built
// to save. Thread-safe; relaxed counts.
void CountRedisRoundTrip();
int64_t RedisRoundTrips();

class RedisPool {
 public:
  explicit RedisPool(RedisOptions options);
  ~RedisPool();

  // Runs a Lua script (by SHA; loads it when Redis does not know it) and returns its integer
  // result. Unavailable on any failure.
  Result<int64_t> EvalInt(const std::string& script, const std::vector<std::string>& keys,
                          const std::vector<std::string>& args);
  // A plain command with an OK / integer / nil reply; Unavailable on failure.
  Status Command(const std::vector<std::string>& argv);
  // Any command; the reply as a value tree. An error reply is Unavailable with Redis's message
  // (e.g. "redis: NOGROUP ...") so callers can recognise the few they handle.
  Result<RedisValue> Query(const std::vector<std::string>& argv);
  // DEL of many keys, a bounded number per command; stops at the first failure (Unavailable).
  Status DeleteKeys(const std::vector<std::string>& keys);

  int64_t errors() const { return errors_.load(); }
  const RedisOptions& options() const { return options_; }

 private:
  struct Conn;
  std::unique_ptr<Conn> Acquire(Status* s);
  void Release(std::unique_ptr<Conn> c);
  // Runs argv on a pooled connection; the reply is owned by the caller (freeReplyObject).
  Result<redisReply*> Run(const std::vector<std::string>& argv);

  const RedisOptions options_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<std::unique_ptr<Conn>> idle_;
  int open_ = 0;
  std::atomic<int64_t> errors_{0};
};

}  // namespace rp::base
