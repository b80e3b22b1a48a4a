// LedgerOptions: where the ledger lives and how it writes (config section `ledger`).
#pragma once

#include <string>

#include "common/options.h"

namespace rp::ledger {

struct LedgerOptions {
  std::string path = "rp-ledger.db";
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
