// Engine: the ledger's storage engine behind one interface — write jobs (each a transaction, or
// a savepoint of a shared one), read transactions on consistent snapshots, and the figures that
// show contention. The embedded engine is SQLite (server/ledger/sqlite_engine.h): one writer
// thread with group commit, and a pool of read-only WAL connections.
//
// Row locks: a job may carry a lock_key (a packet id). Two jobs with the same key never run in
// one commit: the second waits for the next one, exactly as a pessimistic row lock held until
// commit makes it wait in a client/server database. This is what makes a hot packet expensive
// under `db_lock`, and it is measured (lock wait time) rather than hidden.
//
// Thread safety: every method may be called from any thread. Job functions run on the engine's
// threads with a Tx valid only during the call; done callbacks run there after the commit and
// must be quick (post elsewhere, never block).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>

#include "common/metrics/metrics.h"
#include "common/status.h"
#include "server/ledger/options.h"
#include "server/ledger/sql.h"

namespace rp::ledger {

struct WriteJob {
  // The row this job locks (a packet id): jobs with one key never share a commit. The embedded
  // engine enforces it; a row-locking engine gets it from the job's own SELECT ... FOR UPDATE.
  std::optional<int64_t> lock_key;
  // Run one at a time in this process with the other jobs of this key (an in-process lock in
  // front of the database). The embedded engine's single writer does so for every job.
  std::optional<int64_t> inproc_key;
  // Runs inside an open transaction. Non-OK rolls this job back (and only this job).
  std::function<Status(Tx&)> fn;
  // Called once with the outcome: fn's status if the commit succeeded, else the commit's error.
  // Never before the data is durable (per ledger.synchronous).
  std::function<void(const Status&)> done;
  // A claim transaction (set by the claim schemes): counted in claim_commits, the figure that
  // shows whether a scheme shares commits between claims.
  bool claim = false;
  int64_t enqueued_ns = 0;  // Set by Submit().
};

// Monotonic counts unless marked current.
struct EngineStats {
  int64_t commits = 0;
  int64_t jobs = 0;
  int64_t claim_commits = 0;  // Commits whose batch held at least one claim job.
  int64_t claim_jobs = 0;
  int64_t busy_retries = 0;
  int64_t lock_waits = 0;          // Keyed jobs started (each waited for its lock_key).
  int64_t lock_wait_ns_total = 0;  // Enqueue-to-start time of keyed jobs.
  int64_t queue_depth = 0;         // Current.
  int64_t lock_waiters = 0;        // Current: keyed jobs left queued behind a held key.
  int64_t writes_stopped = 0;      // Current: 1 once a failed disk operation stopped writes.
};

class Engine {
 public:
  virtual ~Engine() = default;

  // Queues a job. Overloaded (and done never called) when the queue is full; ShuttingDown when
  // the engine is stopping.
  virtual Status Submit(WriteJob job) = 0;
  // Submits fn and waits for its outcome. Must not be called from an engine thread.
  Status RunSync(std::function<Status(Tx&)> fn, std::optional<int64_t> lock_key = std::nullopt);
  // Runs fn in a read transaction (one consistent snapshot of the last commit), on the calling
  // thread. Overloaded when no read connection frees up within ledger.read_wait_ms.
  virtual Status Read(const std::function<Status(ReadTx&)>& fn) = 0;

  virtual EngineStats Stats() const = 0;
  // OK while the engine takes writes. StorageFailed once a failed disk operation (a failed
  // fsync) stopped the embedded engine taking writes until the process restarts; its message
  // says why. PostgreSQL handles its own failed fsyncs (it crashes and recovers from its WAL),
  // so the postgres engine is always writable here. Cheap and thread-safe: /healthz calls it.
  virtual Status Writable() const { return Status::Ok(); }
  // Finishes queued jobs, then stops. Further Submit() calls fail. Idempotent.
  virtual void Stop() = 0;

  // The engine's figures at each scrape, and its lock-wait histogram in the hub's registry.
  virtual void RegisterMetrics(metrics::Hub& hub, const std::string& scheme) = 0;
};

// The figures every engine exports (rp_ledger_*, rp_lock_*, rp_illegal_transitions_total).
void WriteEngineMetrics(metrics::Writer& w, const EngineStats& s, const std::string& scheme);

// Opens the ledger the options name, creating and migrating it as needed.
Result<std::unique_ptr<Engine>> OpenEngine(const LedgerOptions& options);

// Opens an existing ledger read-only (tools: check, recon). InvalidArgument(bad_config) when
// the file is missing, the URL is not a connection string, or what it finds is not a ledger or
// is newer than this build; Unavailable(ledger_unreachable) when the PostgreSQL server cannot be
// connected to (down, refused, no such database, credentials refused). Messages never hold the
// URL's password (common/redact.h).
Result<std::unique_ptr<Engine>> OpenReadOnly(const LedgerOptions& options);
// The SQLite file at path.
Result<std::unique_ptr<Engine>> OpenReadOnly(const std::string& path);

}  // namespace rp::ledger
