// GlobalBuckets: token buckets shared by every rp-server instance, kept in Redis (one hash per
// rule and key, updated by one Lua script, so a take is atomic across instances). Used for rules
// with `scope: global`. Redis is an accelerator here as everywhere: when it is slow, down or its
// breaker is open, Take() fails fast and the limiter falls back to the rule's local bucket
// ("fail open to the local limiter") and counts it.
//
// Time is the caller's (an injected Clock on each instance; instances on one host share it).
// Thread-safe. Take() blocks on Redis for at most the pool's deadline: never call it from an
// HTTP I/O thread.
#pragma once

#include <cstdint>
#include <string>

#include "common/status.h"
#include "server/base/circuit_breaker.h"
#include "server/base/redis_client.h"

namespace rp::limits {

class GlobalBuckets {
 public:
  virtual ~GlobalBuckets() = default;
  // Takes one token from the bucket `key` (capacity burst, refill qps/s) at now_ms. The wait
  // until a token is there (0: taken), or Unavailable when the shared store did not answer.
  [[nodiscard]] virtual Result<int64_t> Take(const std::string& key, int64_t qps, int64_t burst,
                                             int64_t now_ms) = 0;
};

class RedisBuckets final : public GlobalBuckets {
 public:
  // pool and breaker (may be nullptr: none) are not owned and must outlive this.
  RedisBuckets(base::RedisPool* pool, base::CircuitBreaker* breaker);
  [[nodiscard]] Result<int64_t> Take(const std::string& key, int64_t qps, int64_t burst,
                                     int64_t now_ms) override;

 private:
  base::RedisPool* const pool_;
  base::CircuitBreaker* const breaker_;
};

}  // namespace rp::limits
