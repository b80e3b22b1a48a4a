#include "server/ledger/pg_engine.h"

#include <prometheus/histogram.h>
#include <spdlog/spdlog.h>

#include <chrono>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <thread>
#include <unordered_set>

#include "common/check.h"
#include "common/clock.h"
#include "common/thread_name.h"
#include "server/ledger/pg_conn.h"
#include "server/ledger/schema.h"

namespace rp::ledger {
namespace {

// Which of PostgreSQL's aborts a status is (the SQLSTATE is in its message).
bool Has(const Status& s, const char* code) {
  return s.message().find(std::string("[") + code + "]") != std::string::npos;
}

// Extra figures of this engine, beyond EngineStats.
struct PgFigures {
  int64_t pool_wait_ns_total = 0;  // Submit to a connection taking the job.
  int64_t retries = 0;
  int64_t lost_races = 0;
  int64_t deadlocks = 0;
  int64_t serialization_failures = 0;
  int64_t lock_timeouts = 0;
  int64_t reconnects = 0;
  int64_t deadline_misses = 0;  // Write jobs answered 503 at their deadline.
  int64_t read_retries = 0;     // Reads run again on a fresh connection after a lost one.
};

class PgEngine final : public Engine {
 public:
  explicit PgEngine(LedgerOptions o) : o_(std::move(o)) {}
  ~PgEngine() override { Stop(); }

  Status Open(bool read_only);
  Status Submit(WriteJob job) override;
  Status Read(const std::function<Status(ReadTx&)>& fn) override;
  EngineStats Stats() const override {
    std::lock_guard<std::mutex> lock(mu_);
    EngineStats s = stats_;
    s.queue_depth = static_cast<int64_t>(queue_.size());
    return s;
  }
  void Stop() override;
  void RegisterMetrics(metrics::Hub& hub, const std::string& scheme) override;

 private:
  void Worker(PgConnection* conn);
  bool TakeJob(WriteJob* job);  // mu_ held; false when stopping and drained.
  // Answers the queued jobs whose deadline passed, every kDeadlineScanMs: when every connection
  // waits on a frozen server, nobody else would.
  void DeadlineScanner();
  int64_t DeadlineOf(const WriteJob& job) const {
    return job.enqueued_ns + o_.write_deadline_ms * 1'000'000;
  }
  Status Missed() const;
  Status ReadOnce(PgConnection& conn, const std::function<Status(ReadTx&)>& fn);
  Status RunJob(PgConnection& conn, WriteJob& job);
  Status RunOnce(PgConnection& conn, WriteJob& job, bool* committing);
  void Count(const Status& s);

  const LedgerOptions o_;
  std::vector<std::unique_ptr<PgConnection>> writers_;
  std::vector<std::thread> threads_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::deque<WriteJob> queue_;
  std::unordered_set<int64_t> running_keys_;  // inproc_key of the jobs running now.
  bool stopping_ = false;
  // After a failed reconnect: until then, a job whose connection is broken fails at once instead
  // of every worker dialling a server that just refused (or did not answer) in turn.
  int64_t unreachable_until_ns_ = 0;
  std::thread deadline_scanner_;
  std::condition_variable scanner_cv_;  // Its own: a Submit's notify must reach a worker.
  static constexpr int64_t kDeadlineScanMs = 50;
  static constexpr int64_t kUnreachableBackoffMs = 200;
  EngineStats stats_;
  PgFigures figures_;
  prometheus::Histogram* lock_wait_ = nullptr;

  std::mutex read_mu_;
  std::condition_variable read_cv_;
  std::vector<std::unique_ptr<PgConnection>> readers_;
};

Status PgEngine::Open(bool read_only) {
  PgConnectionOptions co;
  co.url = o_.url;
  co.call_deadline_ms = o_.call_deadline_ms;
  co.statement_timeout_ms = o_.statement_timeout_ms;
  co.lock_timeout_ms = o_.lock_timeout_ms;
  if (!read_only) {
    Result<std::unique_ptr<PgConnection>> first = PgConnection::Open(co);
    if (!first.ok()) return first.status();
    // One migrator at a time, whichever instance starts first.
    Status s = (*first)->ExecScript("SELECT pg_advisory_lock(727001)");
    if (s.ok()) s = Migrate(**first);
    Status unlocked = (*first)->ExecScript("SELECT pg_advisory_unlock(727001)");
    if (!s.ok()) return s;
    if (!unlocked.ok()) return unlocked;
    writers_.push_back(std::move(first.value()));
    while (static_cast<int>(writers_.size()) < o_.pool_size) {
      Result<std::unique_ptr<PgConnection>> c = PgConnection::Open(co);
      if (!c.ok()) return c.status();
      writers_.push_back(std::move(c.value()));
    }
  }
  co.read_only = true;
  for (int i = 0; i < o_.read_connections; ++i) {
    Result<std::unique_ptr<PgConnection>> c = PgConnection::Open(co);
    if (!c.ok()) return c.status();
    readers_.push_back(std::move(c.value()));
  }
  for (auto& w : writers_) {
    threads_.push_back(NamedThread("rp-pg-write-" + std::to_string(threads_.size()),
                                   [this, c = w.get()] { Worker(c); }));
  }
  if (!writers_.empty()) {
    deadline_scanner_ = NamedThread("rp-pg-deadline", [this] { DeadlineScanner(); });
  }
  return Status::Ok();
}

Status PgEngine::Submit(WriteJob job) {
  RP_CHECK(job.fn && job.done);
  job.enqueued_ns = MonotonicNs();
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (stopping_) return Status(Error::kShuttingDown, "the server is shutting down");
    if (writers_.empty()) return Internal("the ledger was opened read-only");
    if (static_cast<int>(queue_.size()) >= o_.writer_queue_max) {
      return Overloaded("the ledger write queue is full; retry later");
    }
    queue_.push_back(std::move(job));
  }
  cv_.notify_one();
  return Status::Ok();
}

// The first queued job whose in-process key is free; jobs of a busy key keep their order.
// A bounded scan, so a long queue of one hot key costs O(pool) per take.
bool PgEngine::TakeJob(WriteJob* job) {
  const size_t scan_max = static_cast<size_t>(o_.pool_size) * 8;
  size_t scanned = 0;
  int64_t waiters = 0;
  for (auto it = queue_.begin(); it != queue_.end() && scanned < scan_max; ++it, ++scanned) {
    if (it->inproc_key && running_keys_.count(*it->inproc_key) > 0) {
      ++waiters;
      continue;
    }
    *job = std::move(*it);
    queue_.erase(it);
    if (job->inproc_key) running_keys_.insert(*job->inproc_key);
    stats_.lock_waiters = waiters;
    return true;
  }
  stats_.lock_waiters = waiters;
  return false;
}

Status PgEngine::Missed() const {
  return {Error::kStorageBusy, "the ledger did not finish the write within " +
                                   std::to_string(o_.write_deadline_ms) +
                                   " ms (ledger.write_deadline_ms); retry later"};
}

void PgEngine::DeadlineScanner() {
  std::unique_lock<std::mutex> lock(mu_);
  while (!stopping_) {
    scanner_cv_.wait_for(lock, std::chrono::milliseconds(kDeadlineScanMs));
    // The queue is in enqueue order (taking a job never reorders the rest): the expired jobs
    // are a prefix of it.
    const int64_t now_ns = MonotonicNs();
    std::vector<WriteJob> expired;
    while (!queue_.empty() && DeadlineOf(queue_.front()) <= now_ns) {
      expired.push_back(std::move(queue_.front()));
      queue_.pop_front();
    }
    if (expired.empty()) continue;
    figures_.deadline_misses += static_cast<int64_t>(expired.size());
    lock.unlock();
    for (WriteJob& job : expired) job.done(Missed());
    lock.lock();
  }
}

void PgEngine::Worker(PgConnection* conn) {
  for (;;) {
    WriteJob job;
    {
      std::unique_lock<std::mutex> lock(mu_);
      cv_.wait(lock, [&] { return TakeJob(&job) || (stopping_ && queue_.empty()); });
      if (!job.fn) return;  // Stopping and drained.
      figures_.pool_wait_ns_total += MonotonicNs() - job.enqueued_ns;
    }
    Status s = RunJob(*conn, job);
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (job.inproc_key) running_keys_.erase(*job.inproc_key);
      ++stats_.jobs;
      if (s.ok()) ++stats_.commits;
      if (s.ok() && job.claim) {
        ++stats_.claim_commits;
        ++stats_.claim_jobs;
      }
      stats_.lock_waits = 0;
      stats_.lock_wait_ns_total = 0;
      for (const auto& w : writers_) {
        stats_.lock_waits += w->figures().row_lock_waits;
        stats_.lock_wait_ns_total += w->figures().row_lock_wait_ns;
      }
    }
    cv_.notify_all();  // A key came free.
    job.done(s);
  }
}

// One attempt: BEGIN, the job, COMMIT. *committing tells whether a failure came from COMMIT
// itself (then the outcome may be unknown).
Status PgEngine::RunOnce(PgConnection& conn, WriteJob& job, bool* committing) {
  *committing = false;
  if (!conn.healthy()) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (MonotonicNs() < unreachable_until_ns_) {
        return {Error::kStorageBusy, "the ledger is unreachable; retry later"};
      }
      ++figures_.reconnects;
    }
    Status r = conn.Reconnect();
    if (!r.ok()) {
      std::lock_guard<std::mutex> lock(mu_);
      unreachable_until_ns_ = MonotonicNs() + kUnreachableBackoffMs * 1'000'000;
      return r;
    }
  }
  Status s = conn.Begin();
  if (!s.ok()) return s;
  const int64_t waits_before = conn.figures().row_lock_wait_ns;
  Tx tx(conn);
  s = job.fn(tx);
  if (job.claim && lock_wait_ != nullptr && conn.figures().row_lock_wait_ns > waits_before) {
    lock_wait_->Observe(static_cast<double>(conn.figures().row_lock_wait_ns - waits_before) / 1e9);
  }
  if (!s.ok()) {
    conn.Rollback();
    return s;
  }
  *committing = true;
  s = conn.Commit();
  if (!s.ok()) conn.Rollback();
  return s;
}

// Retries what PostgreSQL aborted to resolve a race or a lock wait (nothing of it committed);
// a COMMIT that failed for another reason has an unknown outcome and is reported, not retried
// (every job is idempotent by order number, so the caller's own retry is safe). A unique
// violation is a race too: under READ COMMITTED two transactions can both find no row for one
// order number and both insert it (a payment callback and the poller, a claim sent twice at
// once); so is a state move that found its row already moved by a transaction that committed
// after our read. The retry reads the winner's committed rows and answers as a replay. One that
// repeats on every attempt is a real conflict and is reported as what it is.
//
// Every wait of the job on the server ends by its deadline (the connection is closed then); no
// attempt starts after it, and the pause before a retry never crosses it.
Status PgEngine::RunJob(PgConnection& conn, WriteJob& job) {
  const int64_t deadline_ns = DeadlineOf(job);
  conn.SetDeadline(deadline_ns);
  Status s;
  for (int attempt = 0;; ++attempt) {
    if (MonotonicNs() >= deadline_ns) {
      std::lock_guard<std::mutex> lock(mu_);
      ++figures_.deadline_misses;
      s = Missed();
      break;
    }
    bool committing = false;
    s = RunOnce(conn, job, &committing);
    Count(s);
    const bool aborted = Has(s, "40001") || Has(s, "40P01") || Has(s, "55P03");
    const bool lost_race =
        (s.Is(Error::kConstraintViolation) && Has(s, "23505")) || s.Is(Error::kStateChanged);
    const bool retry = (s.Is(Error::kStorageBusy) && (aborted || !committing)) || lost_race;
    if (!retry || attempt >= o_.retries_max) break;
    {
      std::lock_guard<std::mutex> lock(mu_);
      ++figures_.retries;
      ++stats_.busy_retries;
    }
    // A short, growing pause: the transaction it lost to needs a moment to commit.
    std::this_thread::sleep_for(std::chrono::milliseconds(1 << std::min(attempt, 6)));
  }
  conn.SetDeadline(0);
  return s;
}

void PgEngine::Count(const Status& s) {
  if (s.ok()) return;
  std::lock_guard<std::mutex> lock(mu_);
  if (Has(s, "40P01")) ++figures_.deadlocks;
  if (Has(s, "40001")) ++figures_.serialization_failures;
  if (Has(s, "55P03")) ++figures_.lock_timeouts;
  if (Has(s, "23505") || s.Is(Error::kStateChanged)) ++figures_.lost_races;
}

Status PgEngine::Read(const std::function<Status(ReadTx&)>& fn) {
  std::unique_ptr<PgConnection> conn;
  {
    std::unique_lock<std::mutex> lock(read_mu_);
    if (!read_cv_.wait_for(lock, std::chrono::milliseconds(o_.read_wait_ms),
                           [this] { return !readers_.empty(); })) {
      return Overloaded("no read connection free; retry later");
    }
    conn = std::move(readers_.back());
    readers_.pop_back();
  }
  const int64_t answers_before = conn->answers_read();
  Status s = ReadOnce(*conn, fn);
  // A pooled connection finds out the server restarted only when it is used. A read that got
  // no answer at all saw nothing, so it is run once more on a fresh connection rather than
  // answering 503 to a database that is back.
  if (!s.ok() && !conn->healthy() && !conn->timed_out() && conn->answers_read() == answers_before) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      ++figures_.read_retries;
    }
    s = ReadOnce(*conn, fn);
  }
  {
    std::lock_guard<std::mutex> lock(read_mu_);
    readers_.push_back(std::move(conn));
  }
  read_cv_.notify_one();
  return s;
}

// One read transaction; each wait on the server bounded by ledger.call_deadline_ms.
Status PgEngine::ReadOnce(PgConnection& conn, const std::function<Status(ReadTx&)>& fn) {
  Status s = conn.healthy() ? Status::Ok() : conn.Reconnect();
  if (s.ok()) s = conn.Begin();
  if (s.ok()) {
    ReadTx tx(conn);
    s = fn(tx);
    conn.Rollback();  // Read only: ending it is all that is needed.
  }
  return s;
}

void PgEngine::Stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  scanner_cv_.notify_all();
  for (auto& t : threads_) {
    if (t.joinable()) t.join();
  }
  threads_.clear();
  if (deadline_scanner_.joinable()) deadline_scanner_.join();
}

void PgEngine::RegisterMetrics(metrics::Hub& hub, const std::string& scheme) {
  lock_wait_ = &prometheus::BuildHistogram()
                    .Name("rp_lock_wait_seconds")
                    .Help("Time a claim waited for its packet's lock before running")
                    .Register(hub.registry())
                    .Add({{"scheme", scheme}}, metrics::LatencyBuckets());
  hub.AddCollector([this, scheme](metrics::Writer& w) {
    WriteEngineMetrics(w, Stats(), scheme);
    PgFigures f;
    {
      std::lock_guard<std::mutex> lock(mu_);
      f = figures_;
    }
    w.Counter("rp_ledger_pool_wait_seconds_total", "Time write jobs waited for a ledger connection",
              static_cast<double>(f.pool_wait_ns_total) / 1e9);
    w.Counter("rp_ledger_retries_total", "Ledger transactions retried after an abort",
              static_cast<double>(f.retries));
    w.Counter("rp_ledger_lost_races_total",
              "Transactions that lost an insert or state race to a committed one (retried)",
              static_cast<double>(f.lost_races));
    w.Counter("rp_ledger_deadlocks_total", "Transactions PostgreSQL aborted as deadlocked",
              static_cast<double>(f.deadlocks));
    w.Counter("rp_ledger_serialization_failures_total",
              "Transactions PostgreSQL aborted as unserializable",
              static_cast<double>(f.serialization_failures));
    w.Counter("rp_ledger_lock_timeouts_total", "Statements that waited past ledger.lock_timeout_ms",
              static_cast<double>(f.lock_timeouts));
    w.Counter("rp_ledger_reconnects_total", "Ledger connections dialled again after breaking",
              static_cast<double>(f.reconnects));
    w.Counter("rp_ledger_deadline_misses_total",
              "Writes answered 503 at ledger.write_deadline_ms (queued or running too long)",
              static_cast<double>(f.deadline_misses));
    w.Counter("rp_ledger_read_retries_total",
              "Reads run again on a fresh connection after finding theirs lost",
              static_cast<double>(f.read_retries));
  });
}

}  // namespace

Result<std::unique_ptr<Engine>> OpenPgEngine(const LedgerOptions& options, bool read_only) {
  auto engine = std::make_unique<PgEngine>(options);
  Status s = engine->Open(read_only);
  if (!s.ok()) return s;
  return std::unique_ptr<Engine>(std::move(engine));
}

}  // namespace rp::ledger
