#include "server/ledger/sqlite_writer.h"

#include <spdlog/spdlog.h>

#include <unordered_set>

#include "common/check.h"
#include "common/clock.h"
#include "common/thread_name.h"

namespace rp::ledger {

SqliteWriter::SqliteWriter(std::unique_ptr<SqliteConnection> conn, SqliteWriterOptions options)
    : conn_(std::move(conn)), options_(options) {
  RP_CHECK(options_.queue_max > 0 && options_.batch_max > 0);
  thread_ = NamedThread("rp-ledger-write", [this] { Loop(); });
}

SqliteWriter::~SqliteWriter() {
  Stop();
}

Status SqliteWriter::Submit(WriteJob job) {
  RP_CHECK(job.fn && job.done);
  job.enqueued_ns = MonotonicNs();
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (stopping_) return Status(Error::kShuttingDown, "the server is shutting down");
    if (writes_stopped_.load(std::memory_order_relaxed)) return writes_stopped_status_;
    if (static_cast<int>(queue_.size()) >= options_.queue_max) {
      return Overloaded("the ledger write queue is full; retry later");
    }
    queue_.push_back(std::move(job));
    stats_.queue_depth = static_cast<int64_t>(queue_.size());
  }
  cv_.notify_one();
  return Status::Ok();
}

void SqliteWriter::Stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (stopping_ && !thread_.joinable()) return;
    stopping_ = true;
  }
  cv_.notify_one();
  if (thread_.joinable()) thread_.join();
}

EngineStats SqliteWriter::Stats() const {
  std::lock_guard<std::mutex> lock(mu_);
  EngineStats s = stats_;
  s.writes_stopped = writes_stopped_.load(std::memory_order_relaxed) ? 1 : 0;
  return s;
}

Status SqliteWriter::Writable() const {
  if (!writes_stopped_.load(std::memory_order_acquire)) return Status::Ok();
  std::lock_guard<std::mutex> lock(mu_);
  return writes_stopped_status_;
}

void SqliteWriter::StopWrites(const Status& cause) {
  std::lock_guard<std::mutex> lock(mu_);
  if (writes_stopped_.load(std::memory_order_relaxed)) return;
  writes_stopped_status_ =
      Status(Error::kStorageFailed, "the ledger stopped taking writes: " + cause.message() +
                                        "; reads go on; restart the server once the disk is "
                                        "healthy");
  writes_stopped_.store(true, std::memory_order_release);
  spdlog::critical("{}", writes_stopped_status_.message());
}

void SqliteWriter::Loop() {
  std::unique_lock<std::mutex> lock(mu_);
  for (;;) {
    cv_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
    if (queue_.empty()) return;  // stopping_ and drained.
    std::deque<WriteJob> batch = TakeBatch();
    lock.unlock();
    RunBatch(batch);
    lock.lock();
  }
}

// Takes jobs in queue order, skipping (leaving queued, in order) any whose lock_key is already
// held by an earlier job in this batch. Scans a bounded window so a long queue of one hot key
// costs O(batch) per commit, not O(queue). mu_ held.
std::deque<WriteJob> SqliteWriter::TakeBatch() {
  std::deque<WriteJob> batch;
  std::unordered_set<int64_t> held;
  const size_t scan_max = static_cast<size_t>(options_.batch_max) * 4;
  size_t scanned = 0;
  int64_t waiters = 0;
  for (auto it = queue_.begin(); it != queue_.end() && scanned < scan_max &&
                                 static_cast<int>(batch.size()) < options_.batch_max;
       ++scanned) {
    if (it->lock_key && !held.insert(*it->lock_key).second) {
      ++waiters;
      ++it;
      continue;
    }
    batch.push_back(std::move(*it));
    it = queue_.erase(it);
  }
  stats_.queue_depth = static_cast<int64_t>(queue_.size());
  stats_.lock_waiters = waiters;  // Within the scanned window: a floor when the queue is long.
  return batch;
}

Status SqliteWriter::Begin() {
  for (int attempt = 0;; ++attempt) {
    Status s = conn_->Begin(/*write=*/true);
    if (s.ok() || s.code() != Code::kUnavailable || attempt >= options_.begin_retries_max) {
      return s;
    }
    std::lock_guard<std::mutex> lock(mu_);
    ++stats_.busy_retries;
  }
}

namespace {

// The first outcome that is a failed disk operation, or OK.
Status FirstStorageFailure(const std::vector<Status>& outcomes) {
  for (const Status& s : outcomes) {
    if (s.Is(Error::kStorageFailed)) return s;
  }
  return Status::Ok();
}

}  // namespace

void SqliteWriter::RunBatch(std::deque<WriteJob>& batch) {
  std::vector<Status> outcomes;
  outcomes.reserve(batch.size());
  int64_t waits = 0, wait_ns = 0, claims = 0;
  // Jobs queued before the writes stopped fail without touching the files.
  Status commit = Writable();
  if (commit.ok()) commit = Begin();
  if (commit.ok()) {
    Tx tx(*conn_);
    for (WriteJob& job : batch) {
      claims += job.claim ? 1 : 0;
      if (job.lock_key) {
        const int64_t waited = MonotonicNs() - job.enqueued_ns;
        ++waits;
        wait_ns += waited;
        if (lock_wait_observer_) lock_wait_observer_(waited);
      }
      outcomes.push_back(tx.Nested(job.fn));
    }
    // A job that met a failed disk operation fails the whole batch: SQLite may already have
    // rolled the transaction back, and nothing after a failed write can be trusted.
    commit = FirstStorageFailure(outcomes);
    if (commit.ok()) {
      const int64_t commit_start_ns = MonotonicNs();
      commit = conn_->Commit();
      if (commit_observer_) commit_observer_(MonotonicNs() - commit_start_ns);
    }
    if (!commit.ok()) {
      spdlog::error("ledger commit failed: {}", commit.ToString());
      conn_->Rollback();
    }
  }
  if (commit.Is(Error::kStorageFailed) && Writable().ok()) {
    StopWrites(commit);
    // This batch's frames may be in the WAL and be recovered at restart: its outcome is unknown.
    commit = Status(Error::kStorageFailed,
                    commit.message() +
                        ": this write's outcome is unknown; retry it with the same order number "
                        "once the server is back");
  }
  {
    std::lock_guard<std::mutex> lock(mu_);
    ++stats_.commits;
    stats_.jobs += static_cast<int64_t>(batch.size());
    if (commit.ok() && claims > 0) {
      ++stats_.claim_commits;
      stats_.claim_jobs += claims;
    }
    stats_.lock_waits += waits;
    stats_.lock_wait_ns_total += wait_ns;
  }
  for (size_t i = 0; i < batch.size(); ++i) {
    batch[i].done(commit.ok() ? outcomes[i] : commit);
  }
}

}  // namespace rp::ledger
