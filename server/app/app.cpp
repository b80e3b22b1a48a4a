#include "server/app/app.h"

#include <spdlog/spdlog.h>

#include <random>

#include "common/blocking_pool.h"
#include "common/conservation.h"
#include "common/ledger_engines.h"
#include "common/metrics/metrics.h"
#include "common/redact.h"
#include "server/async/async_service.h"
#include "server/async/expiry_scanner.h"
#include "server/async/outbox_queue.h"
#include "server/async/stream_queue.h"
#include "server/base/redis_client.h"
#include "server/core/audience.h"
#include "server/core/b2c.h"
#include "server/core/claim_service.h"
#include "server/core/packet_service.h"
#include "server/core/scheme_registry.h"
#include "server/gateway/api.h"
#include "server/gateway/http_server.h"
#include "server/ledger/engine.h"
#include "server/ledger/packets.h"
#include "server/ledger/snapshot.h"
#include "server/recon/recon.h"
#ifdef RP_FAULT_INJECTION
#include "server/testing/fault_injection.h"
#endif

namespace rp {

// Destroyed in reverse order of declaration: whatever uses a part is declared after it.
struct App::Parts {
  ServerConfig config;
  SystemClock system_clock;
  const Clock* clock = nullptr;
  uint64_t seed = 0;
  metrics::Hub hub;
  // Before every part that calls a downstream service: destroyed after them.
  std::unique_ptr<base::Breakers> breakers;
  std::unique_ptr<base::Degrader> degrader;
  std::unique_ptr<ledger::Engine> ledger;
  std::unique_ptr<base::RedisPool> redis;
  std::unique_ptr<async::ExpiryScanner> scanner;
  std::unique_ptr<async::TaskQueue> tasks;
  async::StreamQueue* stream_queue = nullptr;  // tasks, when async.queue = redis_streams.
  std::unique_ptr<async::AsyncService> async;
  // Bulkheads: each downstream service's blocking calls on a pool of their own, so one slow
  // service cannot take the threads another flow needs.
  std::unique_ptr<BlockingPool> reward_pool, social_pool, recon_pool;
  // The API's ledger reads (a packet, its claims, a receiving range): never on an I/O thread,
  // where a frozen database would hold /healthz and every other route too.
  std::unique_ptr<BlockingPool> read_pool;
  std::unique_ptr<core::ClaimScheme> scheme;
  std::unique_ptr<recon::PeriodicRecon> recon;
  std::unique_ptr<recon::ReconRunner> recon_runner;
  std::unique_ptr<core::AudienceChecker> audience;
  std::unique_ptr<core::B2cService> b2c;
  std::unique_ptr<core::PacketService> packets;
  std::unique_ptr<core::ClaimService> claims;
  // Rate limits: global rules' buckets in Redis behind a breaker of their own, their calls on
  // a pool of their own (never an I/O thread).
  std::unique_ptr<base::CircuitBreaker> limits_breaker;
  std::unique_ptr<limits::RedisBuckets> global_buckets;
  std::unique_ptr<BlockingPool> limits_pool;
  std::unique_ptr<limits::Limiter> limiter;
  std::unique_ptr<gateway::Api> api;
  std::unique_ptr<gateway::HttpServer> http;
  bool stopped = false;
};

namespace {

// The parts every mode needs: ledger engine, Redis, expiry scanner and the task queue.
Status StartCore(App::Parts* p) {
  const ServerConfig& c = p->config;
  p->seed = c.rng_seed != 0 ? c.rng_seed : std::random_device{}();
  p->breakers =
      std::make_unique<base::Breakers>(c.breaker, c.downstream.call_deadline_ms, p->clock);
  p->breakers->RegisterMetrics(p->hub);
  p->degrader = std::make_unique<base::Degrader>(c.degrade, p->breakers.get(), p->clock);
  p->degrader->RegisterMetrics(p->hub);
  Result<std::unique_ptr<ledger::Engine>> engine = ledger::OpenEngine(c.ledger);
  if (!engine.ok()) return engine.status();
  p->ledger = std::move(engine.value());
  p->ledger->RegisterMetrics(p->hub, c.claim.scheme);
  p->scanner = std::make_unique<async::ExpiryScanner>(p->ledger.get(), p->clock, c.scanner);
  if (!c.redis.url.empty()) {
    Result<base::RedisOptions> redis = base::ParseRedisUrl(c.redis.url);
    if (!redis.ok()) return redis.status();
    redis->pool_size = c.redis.pool_size;
    redis->deadline_ms = c.redis.deadline_ms;
    p->redis = std::make_unique<base::RedisPool>(*redis);
  }
  if (c.async.queue == "redis_streams") {
    async::StreamQueueOptions o;
    o.relay = c.async.relay;
    auto queue = std::make_unique<async::StreamQueue>(p->ledger.get(), p->redis.get(), p->clock, o);
    p->stream_queue = queue.get();
    p->tasks = std::move(queue);
  } else {
    p->tasks = std::make_unique<async::OutboxQueue>(p->ledger.get(), p->clock);
  }
  p->tasks->RegisterMetrics(p->hub);
  return Status::Ok();
}

Status StartScheme(App::Parts* p) {
  const ServerConfig& c = p->config;
  core::ClaimSchemeDeps deps;
  deps.ledger = p->ledger.get();
  deps.clock = p->clock;
  deps.rng_seed = p->seed;
  deps.options = c.claim;
  deps.redis = p->redis.get();
  Result<std::unique_ptr<core::ClaimScheme>> scheme = core::MakeClaimScheme(c.claim.scheme, deps);
  if (!scheme.ok()) return scheme.status();
  p->scheme = std::move(scheme.value());
#ifdef RP_FAULT_INJECTION
  p->scheme = testing::WrapForFaultInjection(std::move(p->scheme));
#endif
  core::ClaimScheme* s = p->scheme.get();
  p->hub.AddCollector([s](metrics::Writer& w) {
    const core::SchemeStats st = s->Stats();
    const metrics::Labels l{{"scheme", std::string(s->name())}};
    w.Counter("rp_scheme_fallbacks_total",
              "Claims sent to the ledger because Redis failed or was stale",
              static_cast<double>(st.fallbacks), l);
    w.Counter("rp_scheme_divergences_total",
              "Redis counters found out of step with the ledger and resynced",
              static_cast<double>(st.divergences), l);
    w.Counter("rp_redis_errors_total", "Failed Redis commands",
              static_cast<double>(st.redis_errors));
    w.Counter("rp_redis_round_trips_total",
              "Round trips to Redis (a command, a pipelined batch, a script load)",
              static_cast<double>(base::RedisRoundTrips()));
  });
  return Status::Ok();
}

// Redis may hold state from an earlier process, a restored snapshot, or a ledger since restored:
// the Redis schemes forget it for the open packets, and their first claims rebuild it from the
// ledger. Not fatal when Redis is away (the read-side checks still catch staleness).
void DropCachedClaimState(App::Parts* p) {
  const int64_t limit = p->config.claim.redis_reset_max;
  if (limit == 0 || p->redis == nullptr) return;
  std::vector<int64_t> open;
  Status s = p->ledger->Read([&](ledger::ReadTx& tx) {
    Result<std::vector<int64_t>> ids = ledger::packets::OpenIds(tx, limit);
    if (!ids.ok()) return ids.status();
    open = std::move(ids.value());
    return Status::Ok();
  });
  if (s.ok()) s = p->scheme->DropCachedState(open);
  if (!s.ok()) {
    spdlog::warn("start-up: claim state in Redis not dropped: {}", s.ToString());
    return;
  }
  if (!open.empty())
    spdlog::info("start-up: dropped Redis claim state of {} open packets", open.size());
}

// Where the ledger is, for the logs: the file, or the database URL without its password.
std::string LedgerWhere(const ledger::LedgerOptions& o) {
  if (o.engine != kPostgresEngine) return o.path + " synchronous=" + o.synchronous;
  return RedactSecrets(o.url);
}

recon::ReconOptions ReconOptionsOf(const ServerConfig& c) {
  return {c.downstream.payment_url, c.downstream.wallet_url, c.downstream.reward_url,
          c.downstream.call_deadline_ms * 2, 0};
}

void StartAsync(App::Parts* p, bool run_workers) {
  const ServerConfig& c = p->config;
  if (run_workers && !c.downstream.wallet_url.empty()) {
    async::WorkerTargets targets{c.downstream.wallet_url, c.downstream.payment_url,
                                 c.downstream.call_deadline_ms, p->seed, p->breakers.get()};
    p->async = std::make_unique<async::AsyncService>(p->tasks.get(), p->ledger.get(), p->clock,
                                                     c.async, targets);
    p->async->RegisterMetrics(p->hub);
    p->async->Start();
    if (p->stream_queue != nullptr) p->stream_queue->Start();
  }
  if (c.recon.interval_ms > 0 && !c.downstream.wallet_url.empty()) {
    p->recon = std::make_unique<recon::PeriodicRecon>(p->ledger.get(), ReconOptionsOf(c), p->clock,
                                                      c.recon.interval_ms, p->degrader.get());
    p->recon->RegisterMetrics(p->hub);
    p->recon->Start();
  }
  p->scanner->Start();
}

// The core services behind the API, each downstream on its own pool.
void StartServices(App::Parts* p) {
  const ServerConfig& c = p->config;
  const int64_t wait_ms_max = c.bulkhead.queue_wait_ms_max;
  p->recon_pool = std::make_unique<BlockingPool>(2, 16, "reconciliation", wait_ms_max);
  // As many threads as read connections (more would only wait for one); a queue bounded at
  // kReadQueuePerConnection reads each and in time by ledger.read_wait_ms, beyond which a read
  // answers 503 at once.
  constexpr int kReadQueuePerConnection = 256;
  p->read_pool = std::make_unique<BlockingPool>(
      c.ledger.read_connections, c.ledger.read_connections * kReadQueuePerConnection, "ledger-read",
      static_cast<int64_t>(c.ledger.read_wait_ms));
  p->recon_runner = std::make_unique<recon::ReconRunner>(p->ledger.get(), ReconOptionsOf(c),
                                                         p->clock, p->recon_pool.get());
  if (!c.downstream.social_url.empty()) {
    p->social_pool = std::make_unique<BlockingPool>(4, 256, "social", wait_ms_max);
    p->audience = std::make_unique<core::AudienceChecker>(c.downstream.social_url,
                                                          c.downstream.call_deadline_ms,
                                                          /*cache_max=*/100000, p->breakers.get());
    core::AudienceChecker* audience = p->audience.get();
    p->hub.AddCollector([audience](metrics::Writer& w) {
      w.Counter("rp_social_degraded_total",
                "Claims let through unchecked because the social lookup failed",
                static_cast<double>(audience->degraded()));
    });
  }
  if (!c.downstream.reward_url.empty()) {
    p->reward_pool = std::make_unique<BlockingPool>(4, 256, "reward", wait_ms_max);
    core::B2cOptions b;
    b.mode = c.subsidy.mode;
    b.reward_url = c.downstream.reward_url;
    b.reward_secret = c.reward_secret;
    b.call_deadline_ms = c.downstream.call_deadline_ms;
    b.breakers = p->breakers.get();
    b.degrader = p->degrader.get();
    b.share_cap_cents = c.packet.share_cents_max;
    b.ttl_ms = c.packet.ttl_s * 1000;
    // Rain grabs go on a Redis stream when the task queue does (one switch: async.queue).
    base::RedisPool* grabs = c.async.queue == "redis_streams" ? p->redis.get() : nullptr;
    p->b2c = std::make_unique<core::B2cService>(p->ledger.get(), p->reward_pool.get(), p->clock, b,
                                                grabs, p->scheme.get());
    p->b2c->RegisterMetrics(p->hub);
  }
  std::optional<std::string> notify;
  if (!c.downstream.payment_url.empty()) {
    notify = !c.downstream.payment_notify_url.empty()
                 ? c.downstream.payment_notify_url
                 : "http://" + c.server.host + ":" + std::to_string(p->http->port()) +
                       "/v1/payments/callback";
  }
  p->packets = std::make_unique<core::PacketService>(p->ledger.get(), p->scheme.get(), p->b2c.get(),
                                                     p->clock, c.packet, notify);
  p->claims = std::make_unique<core::ClaimService>(p->scheme.get(), p->ledger.get(),
                                                   p->audience.get(), p->social_pool.get(), &p->hub,
                                                   p->degrader.get(), p->read_pool.get());
}

void StartLimits(App::Parts* p) {
  const ServerConfig& c = p->config;
  if (p->redis) {
    p->limits_breaker =
        std::make_unique<base::CircuitBreaker>(c.breaker.Options(c.redis.deadline_ms), p->clock);
    p->global_buckets =
        std::make_unique<limits::RedisBuckets>(p->redis.get(), p->limits_breaker.get());
    p->limits_pool = std::make_unique<BlockingPool>(c.redis.pool_size, 4096, "limits",
                                                    c.bulkhead.queue_wait_ms_max);
  }
  p->limiter = std::make_unique<limits::Limiter>(gateway::LimitRouteNames(), p->clock,
                                                 p->global_buckets.get(),
                                                 static_cast<size_t>(c.limits.keys_max));
  p->limiter->Load(c.limits.config);
  p->limiter->RegisterMetrics(p->hub);
}

// rp_pool_* by pool: each bulkhead's queue, its refusals (full, or past its wait bound) and the
// recent time of one call on it.
void RegisterPoolMetrics(App::Parts* p) {
  std::vector<const BlockingPool*> pools;
  for (const BlockingPool* pool :
       {p->reward_pool.get(), p->social_pool.get(), p->recon_pool.get(), p->limits_pool.get()}) {
    if (pool != nullptr) pools.push_back(pool);
  }
  p->hub.AddCollector([pools](metrics::Writer& w) {
    for (const BlockingPool* pool : pools) {
      const PoolStats s = pool->stats();
      const metrics::Labels l{{"pool", pool->name()}};
      w.Gauge("rp_pool_queued", "Requests waiting for a thread of a downstream's pool",
              static_cast<double>(s.queued), l);
      w.Gauge("rp_pool_service_seconds", "Recent time of one request on a pool's thread (average)",
              static_cast<double>(s.service_ms_avg) / 1000.0, l);
      for (const auto& [reason, n] :
           {std::pair{"full", s.refused_full}, {"wait", s.refused_wait}}) {
        metrics::Labels r = l;
        r["reason"] = reason;
        w.Counter("rp_pool_refused_total",
                  "Requests a pool refused: its queue full, or their wait past "
                  "bulkhead.queue_wait_ms_max",
                  static_cast<double>(n), r);
      }
    }
  });
}

}  // namespace

Result<std::unique_ptr<App>> App::Start(ServerConfig config, const Clock* clock) {
  auto p = std::make_unique<Parts>();
  p->config = std::move(config);
  p->clock = clock ? clock : &p->system_clock;
  Status s = StartCore(p.get());
  if (s.ok()) s = StartScheme(p.get());
  if (!s.ok()) return s;
  DropCachedClaimState(p.get());
  const ServerConfig& c = p->config;
  p->http = std::make_unique<gateway::HttpServer>(
      gateway::HttpServerOptions{c.server.host, c.server.port, c.server.threads,
                                 c.server.body_bytes_max, c.server.header_bytes_max,
                                 c.server.connections_max, c.server.idle_timeout_ms,
                                 c.server.header_timeout_ms},
      [api = &p->api](gateway::HttpRequest&& req, gateway::Respond respond) {
        (*api)->Handle(std::move(req), std::move(respond));
      });
  s = p->http->Listen();
  if (!s.ok()) return s;
  p->http->RegisterMetrics(p->hub);
  StartAsync(p.get(), c.async.in_process);
  StartServices(p.get());
  StartLimits(p.get());
  RegisterPoolMetrics(p.get());
  gateway::HttpServer* http = p->http.get();
  p->api = std::make_unique<gateway::Api>(gateway::ApiDeps{
      &p->config.server, p->packets.get(), p->claims.get(), p->b2c.get(), p->ledger.get(),
      p->recon_runner.get(), &p->hub, p->clock, p->limiter.get(), p->limits_pool.get(),
      [http](int64_t delay_ms, std::function<void()> work) {
        http->RunAfter(delay_ms, std::move(work));
      },
      p->degrader.get(), p->read_pool.get()});
  p->http->Run();
  spdlog::info("rp-server up: scheme={} ledger={} {} threads={} mocks={}", c.claim.scheme,
               c.ledger.engine, LedgerWhere(c.ledger), c.server.threads,
               c.downstream.wallet_url.empty() ? "none" : RedactSecrets(c.downstream.wallet_url));
  return std::unique_ptr<App>(new App(std::move(p)));
}

Result<std::unique_ptr<App>> App::StartWorker(ServerConfig config) {
  if (config.downstream.wallet_url.empty() || config.downstream.payment_url.empty()) {
    return Status(Error::kBadConfig, "a worker needs --mocks or payment.url and wallet.url");
  }
  auto p = std::make_unique<Parts>();
  p->config = std::move(config);
  p->clock = &p->system_clock;
  Status s = StartCore(p.get());
  if (!s.ok()) return s;
  StartAsync(p.get(), /*run_workers=*/true);
  spdlog::info("rp-server worker up: ledger={} {} workers={} wallet={}", p->config.ledger.engine,
               LedgerWhere(p->config.ledger), p->config.async.workers,
               RedactSecrets(p->config.downstream.wallet_url));
  return std::unique_ptr<App>(new App(std::move(p)));
}

App::App(std::unique_ptr<Parts> parts) : parts_(std::move(parts)) {}

App::~App() {
  Stop();
}

int App::port() const {
  return parts_->http ? parts_->http->port() : 0;
}

void App::Stop() {
  Parts& p = *parts_;
  if (p.stopped) return;
  p.stopped = true;
  // Outside in: stop taking requests, finish calls in flight, stop the background work, and
  // only then the ledger, so everything accepted is committed.
  if (p.http) p.http->Stop(p.config.server.shutdown_grace_ms);
  for (BlockingPool* pool : {p.limits_pool.get(), p.reward_pool.get(), p.social_pool.get(),
                             p.recon_pool.get(), p.read_pool.get()}) {
    if (pool != nullptr) pool->Stop();
  }
  // After the pools that may still hand it claims (a delayed or audience-checked request):
  // claims the scheme still holds (a grace that ran out) end now, while the services their
  // completions call are alive; ledger jobs they submit are finished by the ledger's own stop.
  if (p.scheme) p.scheme->Stop();
  if (p.b2c) p.b2c->Stop();
  if (p.recon) p.recon->Stop();
  if (p.async) p.async->Stop();
  if (p.stream_queue) p.stream_queue->Stop();
  p.scanner->Stop();
  p.ledger->Stop();
}

Status App::ScanExpiredNow() {
  return parts_->scanner->RunOnce().status();
}

Result<std::string> ReconcileLedger(const ServerConfig& c, int64_t since_ms, bool* clean) {
  Result<std::unique_ptr<ledger::Engine>> engine = ledger::OpenReadOnly(c.ledger);
  if (!engine.ok()) return engine.status();
  SystemClock clock;
  recon::ReconOptions o = ReconOptionsOf(c);
  o.since_ms = since_ms;
  Result<recon::ReconResult> r = recon::Run(**engine, o, clock);
  if (!r.ok()) return r.status();
  *clean = r->clean();
  return recon::ToJson(*r).dump(2) + "\n";
}

Result<std::string> CheckLedger(const ledger::LedgerOptions& options, bool* ok) {
  Result<std::unique_ptr<ledger::Engine>> engine = ledger::OpenReadOnly(options);
  if (!engine.ok()) return engine.status();
  conservation::LedgerSnapshot snap;
  Status s = (*engine)->Read([&](ledger::ReadTx& tx) { return ledger::LoadSnapshot(tx, &snap); });
  if (!s.ok()) return s;
  conservation::Report report = conservation::Check(snap);
  *ok = report.ok();
  return conservation::Format(report);
}

}  // namespace rp
