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

void Declare(options::Registry& r, BulkheadConfig* o) {
  r.Int("bulkhead.queue_wait_ms_max", &o->queue_wait_ms_max)
      .Range(1, 600000)
      .Unit("ms")
      .Help(
          "longest a request waits for a thread of a downstream's pool; past it, or when its "
          "expected wait is, grabs and B2C sends answer 503 with Retry-After, the receiving-range "
          "check is skipped and global rate limits decide locally");
}

void Declare(options::Registry& r, BreakerConfig* o) {
  r.Bool("breaker.enabled", &o->enabled)
      .Help("circuit breakers on every downstream endpoint (payment, wallet, reward, social)");
  r.Int("breaker.window_ms", &o->window_ms)
      .Range(1000, 600000)
      .Unit("ms")
      .Help("outcomes older than this no longer count (1 s buckets)");
  r.Int("breaker.calls_min", &o->calls_min)
      .Range(1, 100000)
      .Help("fewer calls in the window never open a breaker (by ratio)");
  r.Int("breaker.error_percent_max", &o->error_percent_max)
      .Range(0, 100)
      .Unit("%")
      .Help("opens when this share of the window's calls failed (0: off)");
  r.Int("breaker.slow_call_ms", &o->slow_call_ms)
      .Range(0, 600000)
      .Unit("ms")
      .Help(
          "a call at least this long is slow (0: half its deadline, async.call_deadline_ms or "
          "redis.deadline_ms)");
  r.Int("breaker.slow_percent_max", &o->slow_percent_max)
      .Range(0, 100)
      .Unit("%")
      .Help("opens when this share of the window's calls was slow (0: off)");
  r.Int("breaker.errors_max", &o->errors_max)
      .Range(0, 100000)
      .Help("opens at this many failed calls in the window, whatever the ratio (0: off)");
  r.Int("breaker.open_ms", &o->open_ms)
      .Range(10, 600000)
      .Unit("ms")
      .Help("an open breaker refuses calls this long, then lets probes through");
  r.Int("breaker.probes_max", &o->probes_max)
      .Range(1, 1000)
      .Help("calls let through half-open; all good closes the breaker, one bad reopens it");
}

void Declare(options::Registry& r, DegradeConfig* o) {
  r.Int("degrade.window_ms", &o->window_ms)
      .Range(1000, 600000)
      .Unit("ms")
      .Help("a non-core feature's SLO is judged over its runs in this window");
  r.Int("degrade.calls_min", &o->calls_min)
      .Range(1, 100000)
      .Help("fewer runs in the window never degrade a feature automatically");
  r.Int("degrade.slow_percent_max", &o->slow_percent_max)
      .Range(0, 100)
      .Unit("%")
      .Help("a feature degrades when this share of its runs missed its latency SLO (0: off)");
  r.Int("degrade.error_percent_max", &o->error_percent_max)
      .Range(0, 100)
      .Unit("%")
      .Help("a feature degrades when this share of its runs failed (0: off)");
  r.Int("degrade.open_ms", &o->open_ms)
      .Range(100, 3'600'000)
      .Unit("ms")
      .Help("an SLO-degraded feature stays degraded this long, then a few runs probe it");
  r.Int("degrade.others_luck_slo_ms", &o->others_luck_slo_ms)
      .Range(1, 600000)
      .Unit("ms")
      .Help("latency SLO of a packet's claim list (GET /v1/packets/{id}/claims)");
  r.Int("degrade.subsidy_display_slo_ms", &o->subsidy_display_slo_ms)
      .Range(1, 600000)
      .Unit("ms")
      .Help("latency SLO of the reward service's half of GET /v1/subsidies");
  r.Int("degrade.audience_slo_ms", &o->audience_slo_ms)
      .Range(1, 600000)
      .Unit("ms")
      .Help("latency SLO of a claim's receiving-range lookup at the social service");
  r.Int("degrade.recon_slo_ms", &o->recon_slo_ms)
      .Range(1, 3'600'000)
      .Unit("ms")
      .Help("latency SLO of one scheduled reconciliation run");
}

void Declare(options::Registry& r, RedisConfig* o) {
  r.String("redis.url", &o->url)
      .Flag("--redis")
      .Help("Redis accelerator, e.g. tcp://127.0.0.1:6390 (empty: none)");
  r.Int("redis.pool_size", &o->pool_size)
      .Range(1, 256)
      .Help(
          "Redis connections at most for blocking calls (a claim scheme's reservation pipeline has "
          "one more of its own)");
  r.Int("redis.deadline_ms", &o->deadline_ms)
      .Range(1, 10000)
      .Unit("ms")
      .Help("connect and per-command deadline of a Redis call");
}

}  // namespace rp::base
