#include "server/ledger/engine.h"

#include <libpq-fe.h>

#include <filesystem>
#include <future>

#include "common/ledger_engines.h"
#include "common/redact.h"
#include "server/ledger/pg_engine.h"
#include "server/ledger/schema.h"
#include "server/ledger/sqlite_engine.h"
#include "server/ledger/state.h"

namespace rp::ledger {

Status Engine::RunSync(std::function<Status(Tx&)> fn, std::optional<int64_t> lock_key) {
  std::promise<Status> promise;
  std::future<Status> future = promise.get_future();
  WriteJob job;
  job.lock_key = lock_key;
  job.fn = std::move(fn);
  job.done = [&promise](const Status& st) { promise.set_value(st); };
  Status s = Submit(std::move(job));
  if (!s.ok()) return s;
  return future.get();
}

void WriteEngineMetrics(metrics::Writer& w, const EngineStats& s, const std::string& scheme) {
  const metrics::Labels by_scheme{{"scheme", scheme}};
  w.Counter("rp_ledger_commits_total", "Ledger write commits", static_cast<double>(s.commits));
  w.Counter("rp_ledger_claim_commits_total",
            "Ledger commits that held at least one claim transaction",
            static_cast<double>(s.claim_commits));
  w.Counter("rp_ledger_jobs_total", "Ledger write jobs committed", static_cast<double>(s.jobs));
  w.Counter("rp_db_busy_retries_total", "Busy retries of the ledger writer",
            static_cast<double>(s.busy_retries));
  w.Counter("rp_lock_wait_seconds_total", "Total time claims waited for packet locks",
            static_cast<double>(s.lock_wait_ns_total) / 1e9, by_scheme);
  w.Gauge("rp_ledger_queue_depth", "Write jobs waiting for the ledger writer",
          static_cast<double>(s.queue_depth));
  w.Gauge("rp_lock_waiters", "Claims queued behind their packet's lock at the last writer batch",
          static_cast<double>(s.lock_waiters), by_scheme);
  w.Gauge("rp_ledger_writes_stopped",
          "1 once a failed disk operation stopped the ledger taking writes (until restart)",
          static_cast<double>(s.writes_stopped));
  w.Counter("rp_ledger_statements_total",
            "Ledger statements run (each use of a prepared statement, reads and writes)",
            static_cast<double>(StatementsRun()));
  w.Counter("rp_illegal_transitions_total", "State transitions rejected by the transition tables",
            static_cast<double>(IllegalTransitions()));
}

Result<std::unique_ptr<Engine>> OpenEngine(const LedgerOptions& options) {
  if (options.engine == kPostgresEngine) return OpenPgEngine(options, /*read_only=*/false);
  return OpenSqliteEngine(options, /*read_only=*/false);
}

Result<std::unique_ptr<Engine>> OpenReadOnly(const std::string& path) {
  LedgerOptions o;
  o.path = path;
  return OpenReadOnly(o);
}

namespace {

// A URL libpq cannot even parse is bad input, not a server that is down.
Status CheckConnectionString(const std::string& url) {
  char* error = nullptr;
  PQconninfoOption* parsed = PQconninfoParse(url.c_str(), &error);
  const bool parses = parsed != nullptr;
  const std::string why = error != nullptr ? error : "";
  PQfreemem(error);
  PQconninfoFree(parsed);
  if (parses) return Status::Ok();
  return Status(Error::kBadConfig, RedactSecrets(url) + " is not a PostgreSQL connection string: " +
                                       RedactConnectionError(why, url));
}

}  // namespace

Result<std::unique_ptr<Engine>> OpenReadOnly(const LedgerOptions& options) {
  const bool pg = options.engine == kPostgresEngine;
  // Said in every message below: the URL without its password.
  const std::string path = pg ? RedactSecrets(options.url) : options.path;
  std::error_code ec;
  if (!pg && !std::filesystem::is_regular_file(path, ec)) {
    return Status(Error::kBadConfig, path + ": no such file");
  }
  if (pg) {
    if (Status s = CheckConnectionString(options.url); !s.ok()) return s;
  }
  LedgerOptions o = options;
  o.read_connections = 1;
  o.read_wait_ms = 1000;
  Result<std::unique_ptr<Engine>> engine =
      pg ? OpenPgEngine(o, /*read_only=*/true) : OpenSqliteEngine(o, /*read_only=*/true);
  if (!engine.ok()) {
    // A PostgreSQL engine read-only does nothing but connect: its failure is the server's.
    return Status(pg ? Error::kLedgerUnreachable : Error::kBadConfig,
                  path + ": " + RedactConnectionError(engine.status().message(), options.url));
  }
  Result<int> version = Status(Error::kBadConfig, "");
  Status s = (*engine)->Read([&](ReadTx& tx) {
    version = SchemaVersion(tx);
    return Status::Ok();
  });
  if (s.ok() && !version.ok()) s = version.status();
  if (!s.ok()) return Status(Error::kBadConfig, path + " is not a ledger: " + s.message());
  if (*version < 1 || *version > LatestSchemaVersion()) {
    return Status(Error::kBadConfig, path + " has schema version " + std::to_string(*version) +
                                         "; this build reads 1.." +
                                         std::to_string(LatestSchemaVersion()));
  }
  return engine;
}

}  // namespace rp::ledger
