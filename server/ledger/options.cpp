#include "server/ledger/options.h"

#include "common/ledger_engines.h"

namespace rp::ledger {

void Declare(options::Registry& r, LedgerOptions* o) {
  r.String("ledger.engine", &o->engine)
      .OneOf(LedgerEngineNames())
      .Flag("--ledger")
      .Help("the ledger's database: embedded SQLite, or PostgreSQL at ledger.url");
  r.String("ledger.path", &o->path).Flag("--db").Help("SQLite ledger file (created if missing)");
  r.String("ledger.url", &o->url)
      .Flag("--ledger-url")
      .Help("PostgreSQL ledger, e.g. postgresql://rp@127.0.0.1:5432/rp");
  r.Int("ledger.pool_size", &o->pool_size)
      .Range(1, 512)
      .Unit("connections")
      .Help("postgres: write connections, each with its worker thread");
  r.Int("ledger.statement_timeout_ms", &o->statement_timeout_ms)
      .Range(10, 3'600'000)
      .Unit("ms")
      .Help("postgres: a statement running longer is cancelled (the job fails, nothing commits)");
  r.Int("ledger.lock_timeout_ms", &o->lock_timeout_ms)
      .Range(1, 3'600'000)
      .Unit("ms")
      .Help("postgres: a row-lock wait longer than this aborts the transaction (then retried)");
  r.Int("ledger.call_deadline_ms", &o->call_deadline_ms)
      .Range(100, 3'600'000)
      .Unit("ms")
      .Help(
          "postgres: the client's deadline for a connect or one round trip of a read; past it "
          "the connection is closed and the request answers 503");
  r.Int("ledger.write_deadline_ms", &o->write_deadline_ms)
      .Range(100, 3'600'000)
      .Unit("ms")
      .Help(
          "postgres: a write (claim, send, ...) not done this long after it was queued answers "
          "503 storage_busy with Retry-After");
  r.Rule([o] { return o->statement_timeout_ms < o->call_deadline_ms; },
         "ledger.statement_timeout_ms must be below ledger.call_deadline_ms (the server cancels "
         "a slow statement before the client gives up on the connection)");
  r.Rule([o] { return o->lock_timeout_ms < o->write_deadline_ms; },
         "ledger.lock_timeout_ms must be below ledger.write_deadline_ms");
  r.Int("ledger.retries_max", &o->retries_max)
      .Range(0, 100)
      .Help("postgres: retries of a transaction aborted by a deadlock, a race or a lock timeout");
  r.Rule([o] { return o->engine != kPostgresEngine || !o->url.empty(); },
         "ledger.engine postgres needs ledger.url (or --ledger-url)");
  r.String("ledger.synchronous", &o->synchronous)
      .OneOf({"FULL", "NORMAL"})
      .Flag("--synchronous")
      .Help("SQLite synchronous: FULL survives power loss, NORMAL only a process crash");
  r.Int("ledger.writer_queue_max", &o->writer_queue_max)
      .Range(1, 10'000'000)
      .Unit("jobs")
      .Help("write jobs waiting for the writer; beyond it writes answer 503 overloaded");
  r.Int("ledger.writer_batch_max", &o->writer_batch_max)
      .Range(1, 10000)
      .Unit("jobs")
      .Help("write jobs per commit (group commit)");
  r.Int("ledger.read_connections", &o->read_connections)
      .Range(1, 64)
      .Help("read-only connections of the query side");
  r.Int("ledger.read_wait_ms", &o->read_wait_ms)
      .Range(1, 60000)
      .Unit("ms")
      .Help("how long a read waits for a free connection before answering 503");
}

}  // namespace rp::ledger
