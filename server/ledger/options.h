// LedgerOptions: where the ledger lives and how it writes (config section `ledger`).
#pragma once

#include <string>

#include "common/ledger_engines.h"
#include "common/options.h"

namespace rp::ledger {

struct LedgerOptions {
  std::string engine{kSqliteEngine};  // sqlite (embedded) | postgres
  std::string path = "rp-ledger.db";  // sqlite: the file.
  std::string url;                    // postgres: postgresql://user@host:port/db
  int pool_size = 8;  // postgres: write connections (one worker thread each); see docs/perf.md.
  // postgres: the server cancels a statement running longer (below call_deadline_ms, so the
  // server's own cancel comes first and the connection survives it).
  int64_t statement_timeout_ms = 2500;
  int64_t lock_timeout_ms = 2000;  // postgres: a row-lock wait longer than this fails.
  // postgres: the client's deadline for one wait on the server (a connect, one round trip) when
  // no write deadline applies (reads, start-up); past it the connection is closed.
  int64_t call_deadline_ms = 3000;
  // postgres: a write job (a claim, a send) not finished this long after it was queued is
  // answered 503 storage_busy: not started if it was still queued, rolled back or of unknown
  // outcome (a cut COMMIT; every write is idempotent, so a retry answers it) if it was running.
  int64_t write_deadline_ms = 6000;
  int retries_max = 5;  // postgres: retries of a transaction aborted by a deadlock or a race.
  // FULL: every commit survives power loss (money). NORMAL: a commit can be lost on power
  // failure but not on a process crash (WAL).
  std::string synchronous = "FULL";
  int writer_queue_max = 65536;  // Jobs waiting for the writer; beyond it writes answer 503.
  int writer_batch_max = 256;    // Jobs per commit (group commit).
  int read_connections = 4;
  int read_wait_ms = 2000;  // How long a read waits for a free connection before 503.
};

void Declare(options::Registry& r, LedgerOptions* o);

}  // namespace rp::ledger
