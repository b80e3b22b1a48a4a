// The async module's options: the workers (section `async`), payment polling (`payment`), the
// Redis Streams relay, and the expiry scanner (`scanner`).
#pragma once

#include <cstdint>
#include <string>

#include "common/options.h"

namespace rp::async {

// The Redis Streams relay's knobs (async.queue = redis_streams): declared once under `async`,
// handed to the StreamQueue as they are.
struct StreamRelayOptions {
  int64_t relay_interval_ms = 10;       // Between passes when the last one was not full.
  int relay_batch_max = 256;            // Rows published per relay pass.
  int64_t republish_after_ms = 60000;   // Relayed, still pending this long: publish again.
  int64_t stream_backlog_max = 100000;  // Stream entries; beyond it the relay waits.
};

struct AsyncOptions {
  bool in_process = true;   // Workers run inside rp-server (else: `rp-server worker`).
  int workers = 2;          // The wallet lane: transfers and refunds.
  int payment_workers = 1;  // The payment lane: pay orders and their polls.
  int lease_batch_max = 32;
  int64_t lease_ms = 30000;  // A task a dead worker held reappears after this.
  int64_t idle_poll_ms = 100;
  int64_t retry_base_ms = 100;
  int64_t retry_max_ms = 10000;
  int64_t failed_after_attempts = 8;
  int64_t payment_poll_ms = 1000;         // How long to wait for a callback before polling again.
  int64_t payment_late_poll_ms = 300000;  // Polling goes on this long after an unpaid close.
  int64_t stuck_after_ms = 60000;
  int64_t stuck_scan_interval_ms = 5000;
  // Where workers take tasks from: "outbox" (embedded) or "redis_streams" (a Redis stream fed
  // from the outbox by a relay; needs redis.url).
  std::string queue = "outbox";
  StreamRelayOptions relay;
};

struct ScannerOptions {
  int64_t interval_ms = 1000;
  int batch_max = 500;
};

void Declare(options::Registry& r, AsyncOptions* o);
void Declare(options::Registry& r, ScannerOptions* o);

}  // namespace rp::async
