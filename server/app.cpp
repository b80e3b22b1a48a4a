#include "server/app.h"

#include <spdlog/spdlog.h>

#include <random>

#include "common/conservation.h"
#include "server/async/expiry_scanner.h"
#include "server/base/ledger_writer.h"
#include "server/base/schema.h"
#include "server/core/claim_scheme.h"
#include "server/gateway/api.h"
#include "server/gateway/http_server.h"
#include "server/gateway/metrics.h"
#include "server/query/packet_query.h"
#include "server/query/read_pool.h"

namespace rp {

struct App::Parts {
  base::ServerConfig config;
  SystemClock system_clock;
  const Clock* clock = nullptr;
  std::unique_ptr<gateway::ServerMetrics> metrics;
  std::unique_ptr<base::LedgerWriter> writer;
  std::unique_ptr<query::ReadPool> reads;
  std::unique_ptr<core::ClaimScheme> scheme;
  std::unique_ptr<async::ExpiryScanner> scanner;
  std::unique_ptr<gateway::Api> api;
  std::unique_ptr<gateway::HttpServer> http;
  bool stopped = false;
};

namespace {

Result<std::unique_ptr<base::Db>> OpenLedger(const base::ServerConfig& c) {
  base::SqliteOptions options;
  options.synchronous = c.synchronous;
  Result<std::unique_ptr<base::Db>> db = base::Db::Open(c.db_path, options);
  if (!db.ok()) return db.status();
  Status s = base::Migrate(**db);
  if (!s.ok()) return s;
  return db;
}

}  // namespace

Result<std::unique_ptr<App>> App::Start(base::ServerConfig config, const Clock* clock) {
  auto p = std::make_unique<Parts>();
  p->config = std::move(config);
  p->clock = clock ? clock : &p->system_clock;
  const base::ServerConfig& c = p->config;
  Result<std::unique_ptr<base::Db>> db = OpenLedger(c);
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
  uint64_t seed = c.rng_seed != 0 ? c.rng_seed : std::random_device{}();
  Result<std::unique_ptr<core::ClaimScheme>> scheme =
      core::MakeClaimScheme(c.claim_scheme, {p->writer.get(), p->clock, seed});
  if (!scheme.ok()) return scheme.status();
  p->scheme = std::move(scheme.value());
  p->scanner = std::make_unique<async::ExpiryScanner>(
      p->writer.get(), p->clock,
      async::ExpiryScannerOptions{c.scanner_interval_ms, c.scanner_batch_max});
  p->api = std::make_unique<gateway::Api>(gateway::ApiDeps{
      &p->config, p->writer.get(), p->scheme.get(), p->reads.get(), p->clock, p->metrics.get()});
  gateway::Api* api = p->api.get();
  p->http = std::make_unique<gateway::HttpServer>(
      gateway::HttpServerOptions{c.host, c.port, c.threads, c.body_bytes_max, 16 * 1024,
                                 c.connections_max, 60000},
      [api](gateway::HttpRequest&& req, gateway::Respond respond) {
        api->Handle(std::move(req), std::move(respond));
      });
  Status s = p->http->Start();
  if (!s.ok()) return s;
  p->scanner->Start();
  spdlog::info("rp-server up: scheme={} db={} synchronous={} threads={}", c.claim_scheme, c.db_path,
               c.synchronous, c.threads);
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
  parts_->http->Stop(parts_->config.shutdown_grace_ms);
  parts_->scanner->Stop();
  parts_->writer->Stop();
}

Status App::ScanExpiredNow() {
  return parts_->scanner->RunOnce().status();
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
