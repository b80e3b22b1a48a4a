#include "server/base/options.h"

namespace rp::base {

void DownstreamOptions::Resolve() {
  for (std::string* url : {&payment_url, &wallet_url, &reward_url, &social_url}) {
    if (url->empty()) *url = mocks_url;
  }
}

void Declare(options::Registry& r, DownstreamOptions* o) {
  r.String("mocks.url", &o->mocks_url)
      .Flag("--mocks")
      .Help("rp-mock URL: payment, wallet, reward and social unless set one by one");
  r.String("payment.url", &o->payment_url).Help("payment service URL");
  r.String("payment.notify_url", &o->payment_notify_url)
      .Help("where the payment service calls back (default: this server's callback route)");
  r.String("wallet.url", &o->wallet_url).Help("wallet service URL (transfers, refunds)");
  r.String("reward.url", &o->reward_url).Help("reward service URL (B2C rain and subsidies)");
  r.String("social.url", &o->social_url)
      .Help("social service URL (receiving ranges; unset: not enforced)");
  r.Int("async.call_deadline_ms", &o->call_deadline_ms)
      .Range(10, 600000)
      .Unit("ms")
      .Help("deadline of one call to a downstream service");
}

void Declare(options::Registry& r, RedisConfig* o) {
  r.String("redis.url", &o->url)
      .Flag("--redis")
      .Help("Redis accelerator, e.g. tcp://127.0.0.1:6390 (empty: none)");
  r.Int("redis.pool_size", &o->pool_size).Range(1, 256).Help("Redis connections at most");
  r.Int("redis.deadline_ms", &o->deadline_ms)
      .Range(1, 10000)
      .Unit("ms")
      .Help("connect and per-command deadline of a Redis call");
}

}  // namespace rp::base
