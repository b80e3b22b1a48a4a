// The base module's options: where the downstream services are (sections `mocks`, `payment`,
// `wallet`, `reward`, `social`) and the Redis accelerator (`redis`).
#pragma once

#include <cstdint>
#include <string>

#include "common/options.h"
#include "server/base/breakers.h"
#include "server/base/degrade.h"

namespace rp::base {

struct DownstreamOptions {
  std::string mocks_url;  // Sets every service URL left empty (an rp-mock serves all four).
  std::string payment_url;
  std::string wallet_url;
  std::string reward_url;
  std::string social_url;
  std::string payment_notify_url;   // Where the payment service calls back; default: ourselves.
  int64_t call_deadline_ms = 2000;  // Connect, send and receive of one call.

  // Fills the service URLs left empty from mocks_url. Call after loading.
  void Resolve();
};

struct RedisConfig {
  std::string url;  // e.g. tcp://127.0.0.1:6390; empty: no Redis.
  int pool_size = 8;
  int64_t deadline_ms = 50;
};

// Section `bulkhead`: the pools the blocking calls of each downstream run on (reward, social,
// global rate limits' Redis calls, reconciliation on demand), so that one slow service cannot
// take the threads another flow needs — nor keep a request queued for longer than this.
struct BulkheadConfig {
  int64_t queue_wait_ms_max = 1000;
};

void Declare(options::Registry& r, DownstreamOptions* o);
void Declare(options::Registry& r, BulkheadConfig* o);
void Declare(options::Registry& r, RedisConfig* o);
void Declare(options::Registry& r, BreakerConfig* o);
void Declare(options::Registry& r, DegradeConfig* o);

}  // namespace rp::base
