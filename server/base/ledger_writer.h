// LedgerWriter: the single writer of the SQLite ledger, with group commit.
//
// Why one writer: SQLite allows one writer at a time; two writer threads relying on busy_timeout
// gain nothing and starve each other (shared facts). Why group commit: a durable commit costs an
// fsync (~7k/s here) while 100 changes per commit reach ~350k/s. So callers submit WriteJobs; the
// writer thread takes up to batch_max queued jobs, runs each inside its own SAVEPOINT of one
// transaction, commits once, and only then reports each job's outcome. A job whose function
// returns non-OK is rolled back alone; the others still commit.
//
// Row locks: a job may carry a lock_key (e.g. a packet id). Two jobs with the same key never share
// a commit: the second waits for the next one, exactly as a pessimistic row lock held until commit
// would make it wait in a client/server database. This is what makes a hot packet expensive under
// the `db_lock` scheme, and it is measured (lock wait time) rather than hidden.
//
// Thread safety: Submit() and RunSync() may be called from any thread. Job functions run on the
// writer thread only, so they may use the writer's Db and any state owned by the writer thread.
// Done callbacks run on the writer thread after the commit: they must be quick (post elsewhere).
#pragma once

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>

#include "common/sqlite.h"
#include "common/status.h"

namespace rp::base {

struct WriteJob {
  std::optional<int64_t> lock_key;
  // Runs inside an open transaction and savepoint. Non-OK rolls this job back.
  std::function<Status(sql::Db&)> fn;
  // Called once with the job's final outcome: fn's status if the commit succeeded, else the
  // commit's error. Never called before the data is durable (per the synchronous setting).
  std::function<void(const Status&)> done;
  int64_t enqueued_ns = 0;  // Set by Submit().
  // A claim transaction (set by the claim schemes): counted in LedgerWriterStats::claim_commits,
  // the figure that shows whether a scheme shares commits between claims.
  bool claim = false;
};

struct LedgerWriterOptions {
  int queue_max = 65536;       // Submit() beyond this answers Unavailable (back-pressure).
  int batch_max = 256;         // Jobs per commit.
  int begin_retries_max = 50;  // BEGIN attempts on SQLITE_BUSY before the batch fails.
};

// Counters the writer keeps; read with Stats(). All monotonic.
struct LedgerWriterStats {
  int64_t commits = 0;
  int64_t jobs = 0;
  int64_t claim_commits = 0;  // Commits whose batch held at least one claim job.
  int64_t claim_jobs = 0;
  int64_t busy_retries = 0;
  int64_t lock_waits = 0;          // Keyed jobs started (each waited for its lock_key).
  int64_t lock_wait_ns_total = 0;  // Enqueue-to-start time of keyed jobs.
  int64_t queue_depth = 0;         // Current, not monotonic.
  int64_t lock_waiters = 0;        // Current: keyed jobs left queued behind a held key.
};

class LedgerWriter {
 public:
  // Takes ownership of a writable, migrated Db and starts the writer thread.
  LedgerWriter(std::unique_ptr<sql::Db> db, LedgerWriterOptions options);
  // Stops after draining every submitted job.
  ~LedgerWriter();

  // Queues a job. Returns Unavailable (and never calls done) when the queue is full or the
  // writer is stopping.
  Status Submit(WriteJob job);

  // Submits fn and waits for its outcome. Must not be called from the writer thread.
  Status RunSync(std::function<Status(sql::Db&)> fn,
                 std::optional<int64_t> lock_key = std::nullopt);

  // Finishes queued jobs, then stops the thread. Further Submit() calls fail. Idempotent.
  void Stop();

  LedgerWriterStats Stats() const;

  // Observer for each keyed job's wait (ns); set before the first Submit(). Runs on the writer.
  void SetLockWaitObserver(std::function<void(int64_t wait_ns)> observer) {
    lock_wait_observer_ = std::move(observer);
  }

 private:
  void Loop();
  std::deque<WriteJob> TakeBatch(std::unique_lock<std::mutex>& lock);
  void RunBatch(std::deque<WriteJob>& batch);
  Status Begin();

  std::unique_ptr<sql::Db> db_;
  const LedgerWriterOptions options_;
  std::function<void(int64_t)> lock_wait_observer_;

  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::deque<WriteJob> queue_;
  bool stopping_ = false;
  LedgerWriterStats stats_;
  std::thread thread_;
};

}  // namespace rp::base
