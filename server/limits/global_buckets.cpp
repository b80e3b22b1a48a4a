#include "server/limits/global_buckets.h"

#include "common/clock.h"

namespace rp::limits {
namespace {

// KEYS[1] the bucket; ARGV: qps, burst, now_ms. Tokens in thousandths, as in TokenBucket, so
// every number stays integral. Returns 0 when a token was taken, else the ms until one is due.
constexpr const char* kTakeScript = R"lua(
local rate = tonumber(ARGV[1])
local cap = tonumber(ARGV[2]) * 1000
local now = tonumber(ARGV[3])
local b = redis.call('HMGET', KEYS[1], 't', 'ts')
local t = tonumber(b[1])
local ts = tonumber(b[2])
if t == nil or ts == nil then t = cap; ts = now end
if now > ts then t = math.min(cap, t + (now - ts) * rate); ts = now end
local wait = 0
if t >= 1000 then t = t - 1000 else wait = math.ceil((1000 - t) / rate) end
redis.call('HSET', KEYS[1], 't', string.format('%d', t), 'ts', string.format('%d', ts))
redis.call('PEXPIRE', KEYS[1], math.ceil(cap / rate) + 1000)
return wait
)lua";

}  // namespace

RedisBuckets::RedisBuckets(base::RedisPool* pool, base::CircuitBreaker* breaker)
    : pool_(pool), breaker_(breaker) {}

Result<int64_t> RedisBuckets::Take(const std::string& key, int64_t qps, int64_t burst,
                                   int64_t now_ms) {
  if (breaker_ != nullptr && !breaker_->Allow()) {
    return Status(Error::kCircuitOpen, "the global limiter's Redis breaker is open");
  }
  const int64_t start_ns = MonotonicNs();
  Result<int64_t> wait = pool_->EvalInt(
      kTakeScript, {key}, {std::to_string(qps), std::to_string(burst), std::to_string(now_ms)});
  if (breaker_ != nullptr) breaker_->Record(wait.ok(), (MonotonicNs() - start_ns) / 1'000'000);
  return wait;
}

}  // namespace rp::limits
