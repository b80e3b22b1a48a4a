// LedgerOptions: where the ledger lives and how it writes (config section `ledger`).
#pragma once

#include <string>

#include "common/options.h"

namespace rp::ledger {

struct LedgerOptions {
  std::string engine = "sqlite";      // sqlite (embedded) | postgres
  std::string path = "rp-ledger.db";  // sqlite: the file.
  std::string url;                    // postgres: postgresql://user@host:port/db
  int pool_size = 8;  // postgres: write connections (one worker thread each); see docs/perf.md.
  int64_t statement_timeout_ms = 10000;  // postgres: a statement running longer is cancelled.
  int64_t lock_timeout_ms = 5000;        // postgres: a row-lock wait longer than this fails.
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
