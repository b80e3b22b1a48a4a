#include "server/app.h"

#include <spdlog/spdlog.h>

#include <random>

#include "common/conservation.h"
#include "server/async/async_service.h"
#include "server/async/expiry_scanner.h"
#include "server/async/outbox_queue.h"
#include "server/async/stream_queue.h"
#include "server/base/blocking_pool.h"
#include "server/base/ledger_writer.h"
#include "server/base/redis_client.h"
#include "server/base/reward_tcc.h"
#include "server/base/schema.h"
#include "server/core/b2c.h"
#include "server/core/claim_scheme.h"
#include "server/core/mem_lock_scheme.h"
#include "server/core/presplit_scheme.h"
#include "server/gateway/api.h"
#include "server/gateway/http_server.h"
#include "server/gateway/metrics.h"
#include "server/query/packet_query.h"
#include "server/query/read_pool.h"
#include "server/recon/recon.h"

namespace rp {

struct App::Parts {
  base::ServerConfig config;
  SystemClock system_clock;
  const Clock* clock = nullptr;
  std::unique_ptr<gateway::ServerMetrics> metrics;
  std::unique_ptr<base::LedgerWriter> writer;
  std::unique_ptr<query::ReadPool> reads;
  std::unique_ptr<base::RedisPool> redis;
  std::unique_ptr<core::ClaimScheme> scheme;
  std::unique_ptr<async::ExpiryScanner> scanner;
  std::unique_ptr<base::BlockingPool> blocking;
  std::unique_ptr<async::TaskQueue> tasks;
  async::StreamQueue* stream_queue = nullptr;  // tasks, when async.queue = redis_streams.
  std::unique_ptr<async::AsyncService> async;
  std::unique_ptr<recon::PeriodicRecon> recon;
  std::unique_ptr<core::AudienceChecker> audience;
  std::unique_ptr<base::RewardTcc> reward_tcc;
  std::unique_ptr<core::B2cService> b2c;
  std::unique_ptr<gateway::Api> api;
  std::unique_ptr<gateway::HttpServer> http;
  bool stopped = false;
};

namespace {

Result<std::unique_ptr<sql::Db>> OpenLedger(const base::ServerConfig& c) {
  sql::SqliteOptions options;
  options.synchronous = c.synchronous;
  Result<std::unique_ptr<sql::Db>> db = sql::Db::Open(c.db_path, options);
  if (!db.ok()) return db.status();
  Status s = base::Migrate(**db);
  if (!s.ok()) return s;
  return db;
}

// The parts every mode needs: ledger writer, read pool, expiry scanner, and the async workers
// when downstream services are configured.
Status StartCore(App::Parts* p) {
  const base::ServerConfig& c = p->config;
  Result<std::unique_ptr<sql::Db>> db = OpenLedger(c);
  if (!db.ok()) return db.status();
  p->metrics = std::make_unique<gateway::ServerMetrics>(c.claim_scheme);
  p->writer = std::make_unique<base::LedgerWriter>(
      std::move(db.value()), base::LedgerWriterOptions{c.writer_queue_max, c.writer_batch_max});
  gateway::ServerMetrics* metrics = p->metrics.get();
  p->writer->SetLockWaitObserver([metrics](int64_t ns) { metrics->ObserveLockWait(ns); });
  Result<std::unique_ptr<query::ReadPool>> reads =
      query::ReadPool::Open(c.db_path, c.read_connections, /*wait_ms=*/2000);
  if (!reads.ok()) return reads.status();
  p->reads = std::move(reads.value());
  p->scanner = std::make_unique<async::ExpiryScanner>(
      p->writer.get(), p->clock,
      async::ExpiryScannerOptions{c.scanner_interval_ms, c.scanner_batch_max});
  p->blocking = std::make_unique<base::BlockingPool>(4, 256);
  if (!c.redis_url.empty()) {
    Result<base::RedisOptions> redis = base::ParseRedisUrl(c.redis_url);
    if (!redis.ok()) return redis.status();
    redis->pool_size = c.redis_pool_size;
    redis->deadline_ms = c.redis_deadline_ms;
    p->redis = std::make_unique<base::RedisPool>(*redis);
  }
  if (c.async_queue == "redis_streams") {
    async::StreamQueueOptions o;
    o.relay_interval_ms = c.async_relay_interval_ms;
    o.relay_batch_max = c.async_relay_batch_max;
    o.republish_after_ms = c.async_republish_after_ms;
    o.backlog_max = c.async_stream_backlog_max;
    auto queue = std::make_unique<async::StreamQueue>(p->writer.get(), p->redis.get(), p->clock, o);
    p->stream_queue = queue.get();
    p->tasks = std::move(queue);
  } else {
    p->tasks = std::make_unique<async::OutboxQueue>(p->writer.get(), p->clock);
  }
  return Status::Ok();
}

// Redis may hold state from an earlier process, a restored snapshot, or a ledger since restored:
// the Redis schemes forget it for the open packets, and their first claims rebuild it from the
// ledger. Not fatal when Redis is away (the read-side checks still catch staleness).
void DropCachedClaimState(App::Parts* p) {
  const int64_t limit = p->config.claim_redis_reset_max;
  if (limit == 0 || p->redis == nullptr) return;
  Result<std::vector<int64_t>> open = query::OpenPacketIds(*p->reads, limit);
  Status s = open.ok() ? p->scheme->DropCachedState(*open) : open.status();
  if (!s.ok()) {
    spdlog::warn("start-up: claim state in Redis not dropped: {}", s.ToString());
    return;
  }
  if (!open->empty()) {
    spdlog::info("start-up: dropped Redis claim state of {} open packets", open->size());
  }
}

void StartAsync(App::Parts* p, bool run_workers) {
  const base::ServerConfig& c = p->config;
  if (run_workers && !c.wallet_url.empty()) {
    async::AsyncOptions o;
    o.workers = c.async_workers;
    o.lease_batch_max = c.async_lease_batch_max;
    o.lease_ms = c.async_lease_ms;
    o.idle_poll_ms = c.async_idle_poll_ms;
    o.call_deadline_ms = c.async_call_deadline_ms;
    o.retry_base_ms = c.async_retry_base_ms;
    o.retry_max_ms = c.async_retry_max_ms;
    o.failed_after_attempts = c.async_failed_after_attempts;
    o.payment_poll_ms = c.payment_poll_ms;
    o.payment_late_poll_ms = c.payment_late_poll_ms;
    o.stuck_after_ms = c.async_stuck_after_ms;
    o.stuck_scan_interval_ms = c.async_stuck_scan_interval_ms;
    o.seed = c.rng_seed != 0 ? c.rng_seed : std::random_device{}();
    o.wallet_url = c.wallet_url;
    o.payment_url = c.payment_url;
    p->async = std::make_unique<async::AsyncService>(p->tasks.get(), p->writer.get(), p->clock, o);
    p->async->Start();
    if (p->stream_queue != nullptr) p->stream_queue->Start();
  }
  if (c.recon_interval_ms > 0 && !c.wallet_url.empty()) {
    p->recon = std::make_unique<recon::PeriodicRecon>(
        p->reads.get(),
        recon::ReconOptions{c.payment_url, c.wallet_url, c.reward_url, c.async_call_deadline_ms * 2,
                            0},
        p->clock, c.recon_interval_ms);
    p->recon->Start();
  }
  p->scanner->Start();
}

}  // namespace

Result<std::unique_ptr<App>> App::Start(base::ServerConfig config, const Clock* clock) {
  auto p = std::make_unique<Parts>();
  p->config = std::move(config);
  p->clock = clock ? clock : &p->system_clock;
  Status s = StartCore(p.get());
  if (!s.ok()) return s;
  const base::ServerConfig& c = p->config;
  uint64_t seed = c.rng_seed != 0 ? c.rng_seed : std::random_device{}();
  core::ClaimSchemeDeps scheme_deps{p->writer.get(), p->clock, seed, c.claim_batch_max};
  if (c.claim_scheme == "mem_lock") {
    p->scheme = core::MakeMemLockScheme({scheme_deps, p->redis.get(), p->reads.get()});
  } else if (c.claim_scheme == "presplit") {
    p->scheme = core::MakePresplitScheme({scheme_deps, p->redis.get(), p->reads.get()});
  } else {
    Result<std::unique_ptr<core::ClaimScheme>> scheme =
        core::MakeClaimScheme(c.claim_scheme, scheme_deps);
    if (!scheme.ok()) return scheme.status();
    p->scheme = std::move(scheme.value());
  }
  DropCachedClaimState(p.get());
  p->http = std::make_unique<gateway::HttpServer>(
      gateway::HttpServerOptions{c.host, c.port, c.threads, c.body_bytes_max, 16 * 1024,
                                 c.connections_max, 60000},
      [api = &p->api](gateway::HttpRequest&& req, gateway::Respond respond) {
        (*api)->Handle(std::move(req), std::move(respond));
      });
  s = p->http->Listen();
  if (!s.ok()) return s;
  StartAsync(p.get(), c.async_in_process);
  gateway::ApiDeps deps;
  deps.config = &p->config;
  deps.writer = p->writer.get();
  deps.scheme = p->scheme.get();
  deps.reads = p->reads.get();
  deps.clock = p->clock;
  deps.metrics = p->metrics.get();
  if (!c.payment_url.empty()) {
    deps.payment_notify_url =
        !c.payment_notify_url.empty()
            ? c.payment_notify_url
            : "http://" + c.host + ":" + std::to_string(p->http->port()) + "/v1/payments/callback";
  }
  deps.async = p->async.get();
  deps.stream_queue = p->stream_queue;
  deps.periodic_recon = p->recon.get();
  deps.blocking = p->blocking.get();
  if (!c.social_url.empty()) {
    p->audience = std::make_unique<core::AudienceChecker>(c.social_url, c.async_call_deadline_ms,
                                                          /*cache_max=*/100000);
    deps.audience = p->audience.get();
  }
  if (!c.reward_url.empty()) {
    p->reward_tcc = std::make_unique<base::RewardTcc>(c.reward_url, c.async_call_deadline_ms);
    core::B2cOptions b;
    b.mode = c.subsidy_mode;
    b.share_cap_cents = c.share_cents_max;
    b.ttl_ms = c.packet_ttl_s * 1000;
    // Rain grabs go on a Redis stream when the task queue does (one switch: async.queue).
    base::RedisPool* grabs_redis = c.async_queue == "redis_streams" ? p->redis.get() : nullptr;
    p->b2c = std::make_unique<core::B2cService>(p->writer.get(), p->reward_tcc.get(), p->clock, b,
                                                grabs_redis, p->scheme.get());
    deps.b2c = p->b2c.get();
  }
  p->api = std::make_unique<gateway::Api>(deps);
  p->http->Run();
  spdlog::info("rp-server up: scheme={} db={} synchronous={} threads={} mocks={}", c.claim_scheme,
               c.db_path, c.synchronous, c.threads, c.wallet_url.empty() ? "none" : c.wallet_url);
  return std::unique_ptr<App>(new App(std::move(p)));
}

Result<std::unique_ptr<App>> App::StartWorker(base::ServerConfig config) {
  if (config.wallet_url.empty() || config.payment_url.empty()) {
    return InvalidArgument("bad_config", "a worker needs --mocks or payment.url and wallet.url");
  }
  auto p = std::make_unique<Parts>();
  p->config = std::move(config);
  p->clock = &p->system_clock;
  Status s = StartCore(p.get());
  if (!s.ok()) return s;
  StartAsync(p.get(), /*run_workers=*/true);
  spdlog::info("rp-server worker up: db={} workers={} wallet={}", p->config.db_path,
               p->config.async_workers, p->config.wallet_url);
  return std::unique_ptr<App>(new App(std::move(p)));
}

App::App(std::unique_ptr<Parts> parts) : parts_(std::move(parts)) {}

App::~App() {
  Stop();
}

int App::port() const {
  return parts_->http->port();
}

void App::Stop() {
  if (parts_->stopped) return;
  parts_->stopped = true;
  // Outside in: stop taking requests, finish calls in flight, stop the background work, and
  // only then the writer, so everything accepted is committed.
  if (parts_->http) parts_->http->Stop(parts_->config.shutdown_grace_ms);
  parts_->blocking->Stop();
  if (parts_->b2c) parts_->b2c->Stop();
  if (parts_->recon) parts_->recon->Stop();
  if (parts_->async) parts_->async->Stop();
  if (parts_->stream_queue) parts_->stream_queue->Stop();
  parts_->scanner->Stop();
  parts_->writer->Stop();
}

Status App::ScanExpiredNow() {
  return parts_->scanner->RunOnce().status();
}

Result<std::string> ReconcileLedger(const base::ServerConfig& c, int64_t since_ms, bool* clean) {
  Result<std::unique_ptr<query::ReadPool>> pool = query::ReadPool::Open(c.db_path, 1, 1000);
  if (!pool.ok()) return pool.status();
  SystemClock clock;
  Result<recon::ReconResult> r = recon::Run(
      **pool, {c.payment_url, c.wallet_url, c.reward_url, c.async_call_deadline_ms * 2, since_ms},
      clock);
  if (!r.ok()) return r.status();
  *clean = r->clean();
  return recon::ToJson(*r).dump(2) + "\n";
}

Result<std::string> CheckLedger(const std::string& db_path, bool* ok) {
  Result<std::unique_ptr<query::ReadPool>> pool = query::ReadPool::Open(db_path, 1, 1000);
  if (!pool.ok()) return pool.status();
  Result<conservation::LedgerSnapshot> snap = query::Snapshot(**pool);
  if (!snap.ok()) return snap.status();
  conservation::Report report = conservation::Check(*snap);
  *ok = report.ok();
  return conservation::Format(report);
}

}  // namespace rp
