// ServerConfig: the one configuration struct of rp-server, loaded from a YAML file and then
// overridden by command-line flags. Secrets come from the file or the environment
// (RP_AUTH_SECRET, RP_PAYMENT_SECRET), never from flags, so they stay out of `ps` output.
#pragma once

#include <cstdint>
#include <string>

#include "common/status.h"

namespace rp::base {

struct ServerConfig {
  // server:
  std::string host = "127.0.0.1";
  int port = 8080;  // 0 picks a free port.
  int threads = 2;  // HTTP I/O threads.
  int64_t body_bytes_max = 64 * 1024;
  int64_t connections_max = 10000;
  int64_t shutdown_grace_ms = 5000;  // SIGTERM: time allowed for in-flight requests.

  // ledger:
  std::string db_path = "rp-ledger.db";
  std::string synchronous = "FULL";  // FULL or NORMAL; see docs/architecture.md.
  int writer_queue_max = 65536;
  int writer_batch_max = 256;
  int read_connections = 4;

  // claim:
  std::string claim_scheme = "db_lock";  // db_lock | batched | mem_lock | presplit (need redis.url)
  int claim_batch_max = 256;             // batched: claims per write transaction.
  // mem_lock/presplit: at start-up, Redis state of at most this many open packets (newest first)
  // is dropped so their first claim rebuilds it from the ledger; 0: none.
  int claim_redis_reset_max = 100000;

  // packet: (limits checked at the boundary)
  int64_t packet_ttl_s = 86400;
  int64_t count_max = 10000;
  int64_t share_cents_max = 20000;
  int64_t greeting_chars_max = 100;

  // scanner:
  int64_t scanner_interval_ms = 1000;
  int scanner_batch_max = 500;

  // Downstream services (issue 3). `mocks.url` / --mocks sets every URL that is left empty.
  std::string mocks_url;
  std::string payment_url;
  std::string wallet_url;
  std::string reward_url;
  std::string social_url;
  std::string payment_notify_url;  // Where the payment service calls back; default: ourselves.
  int64_t payment_poll_ms = 1000;
  // After a packet is closed unpaid, its pay order is still polled this long: a payment that
  // arrives anyway is taken and refunded in full instead of being left for reconciliation.
  int64_t payment_late_poll_ms = 300000;

  // async: (workers run inside the server unless async.in_process is false)
  bool async_in_process = true;
  int async_workers = 2;
  int async_lease_batch_max = 32;
  int64_t async_lease_ms = 30000;
  int64_t async_idle_poll_ms = 100;
  int64_t async_call_deadline_ms = 2000;
  int64_t async_retry_base_ms = 100;
  int64_t async_retry_max_ms = 10000;
  int64_t async_failed_after_attempts = 8;
  int64_t async_stuck_after_ms = 60000;
  int64_t async_stuck_scan_interval_ms = 5000;
  // Where workers take tasks from: "outbox" (embedded, the default) or "redis_streams" (a Redis
  // stream fed from the outbox by a relay; needs redis.url). See async/stream_queue.h.
  std::string async_queue = "outbox";
  int64_t async_relay_interval_ms = 10;
  int async_relay_batch_max = 256;
  int64_t async_republish_after_ms = 60000;
  int64_t async_stream_backlog_max = 100000;

  // redis: (an accelerator; see core/mem_lock_scheme.h)
  std::string redis_url;  // e.g. tcp://127.0.0.1:6390; empty: no Redis.
  int redis_pool_size = 8;
  int64_t redis_deadline_ms = 50;

  // subsidy: (B2C; see core/b2c.h)
  std::string subsidy_mode = "hybrid";  // sync | async | hybrid

  // recon:
  int64_t recon_interval_ms = 60000;  // 0: no periodic reconciliation in the server.

  // secrets:
  std::string auth_secret;
  std::string payment_secret;
  std::string reward_secret;  // Verifies subsidy tokens (B2C).

  uint64_t rng_seed = 0;  // 0: seeded from std::random_device.
};

// Reads the YAML file at path into config (keys it does not set keep their value). Unknown keys
// and wrong types are errors naming the key. Then fills empty secrets from the environment.
Status LoadConfigFile(const std::string& path, ServerConfig* config);

// Fills empty secrets from RP_AUTH_SECRET / RP_PAYMENT_SECRET. Called by FinishConfig.
void ResolveSecrets(ServerConfig* config);

// Fills secrets from RP_AUTH_SECRET / RP_PAYMENT_SECRET when the config left them empty, then
// checks every value's range. Call after flags are applied.
Status FinishConfig(ServerConfig* config);

}  // namespace rp::base
