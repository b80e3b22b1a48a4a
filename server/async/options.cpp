#include "server/async/options.h"

namespace rp::async {

void Declare(options::Registry& r, AsyncOptions* o) {
  r.Bool("async.in_process", &o->in_process)
      .Switch("--no-workers", false, "do not run the async workers here (run `rp-server worker`)")
      .Help("run the async workers in this process (else run `rp-server worker`)");
  r.Int("async.workers", &o->workers)
      .Range(1, 64)
      .Help("worker threads of the wallet lane (transfers, refunds)");
  r.Int("async.payment_workers", &o->payment_workers)
      .Range(1, 64)
      .Help(
          "worker threads of the payment lane (pay orders, their polls): a slow wallet "
          "never holds payments up, nor the reverse");
  r.Int("async.lease_batch_max", &o->lease_batch_max)
      .Range(1, 10000)
      .Unit("tasks")
      .Help("tasks one lease takes");
  r.Int("async.lease_ms", &o->lease_ms)
      .Range(100, 86'400'000)
      .Unit("ms")
      .Help("a leased task reappears after this if its worker died");
  r.Int("async.idle_poll_ms", &o->idle_poll_ms)
      .Range(1, 60000)
      .Unit("ms")
      .Help("how long an idle worker waits before looking again");
  r.Int("async.retry_base_ms", &o->retry_base_ms)
      .Range(1, 3'600'000)
      .Unit("ms")
      .Help("first retry delay (doubles per attempt, with jitter)");
  r.Int("async.retry_max_ms", &o->retry_max_ms)
      .Range(1, 86'400'000)
      .Unit("ms")
      .Help("longest retry delay");
  r.Int("async.failed_after_attempts", &o->failed_after_attempts)
      .Range(1, 1'000'000)
      .Help("attempts after which a transfer or refund is marked failed (and still retried)");
  r.Int("async.stuck_after_ms", &o->stuck_after_ms)
      .Range(1, 86'400'000)
      .Unit("ms")
      .Help("a task pending this long is a stuck order (alerted, re-driven)");
  r.Int("async.stuck_scan_interval_ms", &o->stuck_scan_interval_ms)
      .Range(10, 86'400'000)
      .Unit("ms")
      .Help("period of the stuck-order scan");
  r.String("async.queue", &o->queue)
      .OneOf({"outbox", "redis_streams"})
      .Help("where workers take tasks from (redis_streams needs redis.url)");
  r.Int("async.relay_interval_ms", &o->relay.relay_interval_ms)
      .Range(1, 60000)
      .Unit("ms")
      .Help("redis_streams: pause between relay passes that were not full");
  r.Int("async.relay_batch_max", &o->relay.relay_batch_max)
      .Range(1, 10000)
      .Unit("tasks")
      .Help("redis_streams: outbox rows published per relay pass");
  r.Int("async.republish_after_ms", &o->relay.republish_after_ms)
      .Range(100, 86'400'000)
      .Unit("ms")
      .Help("redis_streams: a published task still pending this long is published again");
  r.Int("async.stream_backlog_max", &o->relay.stream_backlog_max)
      .Range(1, 100'000'000)
      .Unit("entries")
      .Help("redis_streams: the relay waits while the stream holds this many");
  r.Int("payment.poll_ms", &o->payment_poll_ms)
      .Range(10, 3'600'000)
      .Unit("ms")
      .Help("how long to wait for a payment callback before polling the pay order again");
  r.Int("payment.late_poll_ms", &o->payment_late_poll_ms)
      .Range(0, 86'400'000)
      .Unit("ms")
      .Help(
          "a packet closed unpaid keeps its pay order polled this long (a late payment is "
          "refunded)");
  r.Rule([o] { return o->retry_max_ms >= o->retry_base_ms; },
         "async.retry_max_ms must be >= async.retry_base_ms");
}

void Declare(options::Registry& r, ScannerOptions* o) {
  r.Int("scanner.interval_ms", &o->interval_ms)
      .Range(10, 3'600'000)
      .Unit("ms")
      .Flag("--scan-interval-ms")
      .Help("period of the expiry scanner");
  r.Int("scanner.batch_max", &o->batch_max)
      .Range(1, 100000)
      .Unit("packets")
      .Help("packets one expiry pass handles at most");
}

}  // namespace rp::async
