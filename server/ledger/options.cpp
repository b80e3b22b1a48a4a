#include "server/ledger/options.h"

namespace rp::ledger {

void Declare(options::Registry& r, LedgerOptions* o) {
  r.String("ledger.path", &o->path).Flag("--db").Help("SQLite ledger file (created if missing)");
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
