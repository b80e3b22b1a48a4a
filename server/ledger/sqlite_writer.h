// SqliteWriter: the single writer of the SQLite ledger, with group commit.
//
// Why one writer: SQLite allows one writer at a time; two writer threads relying on busy_timeout
// gain nothing and starve each other (shared facts). Why group commit: a durable commit costs an
// fsync (~7k/s here) while 100 changes per commit reach ~350k/s. So callers submit WriteJobs; the
// writer thread takes up to batch_max queued jobs, runs each inside its own savepoint of one
// transaction, commits once, and only then reports each job's outcome. A job whose function
// returns non-OK is rolled back alone; the others still commit. Two jobs with the same lock_key
// never share a commit (see engine.h).
//
// A failed disk operation (StorageFailed: a failed fsync, write or read of the ledger's files)
// stops the writer taking writes until the process restarts — PostgreSQL's and LevelDB's rule,
// because after a failed fsync no later commit can be proven durable. Reads go on.
//
// Thread safety: Submit() may be called from any thread. Job functions and done callbacks run
// on the writer thread only.
#pragma once

#include <atomic>
#include <condition_variable>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>

#include "server/ledger/engine.h"
#include "server/ledger/sqlite_conn.h"

namespace rp::ledger {

struct SqliteWriterOptions {
  int queue_max = 65536;       // Submit() beyond this answers Overloaded (back-pressure).
  int batch_max = 256;         // Jobs per commit.
  int begin_retries_max = 50;  // BEGIN attempts on SQLITE_BUSY before the batch fails.
};

class SqliteWriter {
 public:
  // Takes a writable, migrated connection and starts the writer thread.
  SqliteWriter(std::unique_ptr<SqliteConnection> conn, SqliteWriterOptions options);
  // Stops after draining every submitted job.
  ~SqliteWriter();

  // Queues a job. Overloaded / ShuttingDown (and done never called) when it cannot.
  Status Submit(WriteJob job);
  // Finishes queued jobs, then stops the thread. Further Submit() calls fail. Idempotent.
  void Stop();
  EngineStats Stats() const;
  // OK while the writer takes writes; StorageFailed, naming the failure and when it happened,
  // once a failed disk operation stopped it (until restart). Cheap: /healthz calls it.
  Status Writable() const;
  // Observer of each keyed job's wait (ns); set before the first Submit(). Runs on the writer.
  void SetLockWaitObserver(std::function<void(int64_t wait_ns)> observer) {
    lock_wait_observer_ = std::move(observer);
  }
  // Observer of each COMMIT's duration (ns: the WAL write, its fsync and any checkpoint it
  // ran); set before the first Submit(). Runs on the writer.
  void SetCommitObserver(std::function<void(int64_t commit_ns)> observer) {
    commit_observer_ = std::move(observer);
  }

 private:
  void Loop();
  std::deque<WriteJob> TakeBatch();
  // Never inlined: rp-sim --exact counts the ledger's instructions inside it (callgrind
  // --toggle-collect needs its entry).
  [[gnu::noinline]] void RunBatch(std::deque<WriteJob>& batch);
  Status Begin();
  // Stops taking writes after the failed disk operation `cause`; the first cause is kept.
  void StopWrites(const Status& cause);

  std::unique_ptr<SqliteConnection> conn_;
  const SqliteWriterOptions options_;
  std::function<void(int64_t)> lock_wait_observer_;
  std::function<void(int64_t)> commit_observer_;

  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::deque<WriteJob> queue_;
  bool stopping_ = false;
  std::atomic<bool> writes_stopped_{false};
  Status writes_stopped_status_;  // Why and since when (mu_); set once with writes_stopped_.
  EngineStats stats_;
  std::thread thread_;
};

}  // namespace rp::ledger
