#include "server/base/ledger_writer.h"

#include <spdlog/spdlog.h>

#include <exception>
#include <future>
#include <unordered_set>

#include "common/check.h"
#include "common/clock.h"

namespace rp::base {

LedgerWriter::LedgerWriter(std::unique_ptr<sql::Db> db, LedgerWriterOptions options)
    : db_(std::move(db)), options_(options) {
  RP_CHECK(options_.queue_max > 0 && options_.batch_max > 0);
  thread_ = std::thread([this] { Loop(); });
}

LedgerWriter::~LedgerWriter() {
  Stop();
}

Status LedgerWriter::Submit(WriteJob job) {
  RP_CHECK(job.fn && job.done);
  job.enqueued_ns = MonotonicNs();
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (stopping_) return Status(Error::kShuttingDown, "the server is shutting down");
    if (static_cast<int>(queue_.size()) >= options_.queue_max) {
      return Status(Error::kOverloaded, "the ledger write queue is full; retry later");
    }
    queue_.push_back(std::move(job));
    stats_.queue_depth = static_cast<int64_t>(queue_.size());
  }
  cv_.notify_one();
  return Status::Ok();
}

Status LedgerWriter::RunSync(std::function<Status(sql::Db&)> fn, std::optional<int64_t> lock_key) {
  RP_CHECK(std::this_thread::get_id() != thread_.get_id());
  std::promise<Status> promise;
  std::future<Status> future = promise.get_future();
  Status s =
      Submit({lock_key, std::move(fn), [&promise](const Status& st) { promise.set_value(st); }});
  if (!s.ok()) return s;
  return future.get();
}

void LedgerWriter::Stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (stopping_ && !thread_.joinable()) return;
    stopping_ = true;
  }
  cv_.notify_one();
  if (thread_.joinable()) thread_.join();
}

LedgerWriterStats LedgerWriter::Stats() const {
  std::lock_guard<std::mutex> lock(mu_);
  return stats_;
}

void LedgerWriter::Loop() {
  std::unique_lock<std::mutex> lock(mu_);
  for (;;) {
    cv_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
    if (queue_.empty()) return;  // stopping_ and drained.
    std::deque<WriteJob> batch = TakeBatch(lock);
    lock.unlock();
    RunBatch(batch);
    lock.lock();
  }
}

// Takes jobs in queue order, skipping (leaving queued, in order) any whose lock_key is already
// held by an earlier job in this batch. Scans a bounded window so a long queue of one hot key
// costs O(batch) per commit, not O(queue).
std::deque<WriteJob> LedgerWriter::TakeBatch(std::unique_lock<std::mutex>&) {
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

Status LedgerWriter::Begin() {
  for (int attempt = 0;; ++attempt) {
    Status s = db_->Exec("BEGIN IMMEDIATE");
    if (s.ok() || s.code() != Code::kUnavailable || attempt >= options_.begin_retries_max) {
      return s;
    }
    std::lock_guard<std::mutex> lock(mu_);
    ++stats_.busy_retries;
  }
}

void LedgerWriter::RunBatch(std::deque<WriteJob>& batch) {
  std::vector<Status> outcomes;
  outcomes.reserve(batch.size());
  int64_t waits = 0, wait_ns = 0, claims = 0;
  Status commit = Begin();
  if (commit.ok()) {
    for (WriteJob& job : batch) {
      claims += job.claim ? 1 : 0;
      if (job.lock_key) {
        int64_t waited = MonotonicNs() - job.enqueued_ns;
        ++waits;
        wait_ns += waited;
        if (lock_wait_observer_) lock_wait_observer_(waited);
      }
      RP_CHECK(db_->Exec("SAVEPOINT job").ok());
      Status s;
      try {
        s = job.fn(*db_);
      } catch (const std::exception& e) {
        s = Internal(std::string("write job threw: ") + e.what());
      }
      if (!s.ok()) RP_CHECK(db_->Exec("ROLLBACK TO job").ok());
      RP_CHECK(db_->Exec("RELEASE job").ok());
      outcomes.push_back(std::move(s));
    }
    commit = db_->Exec("COMMIT");
    if (!commit.ok()) {
      spdlog::error("ledger commit failed: {}", commit.ToString());
      (void)db_->Exec("ROLLBACK");
    }
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

}  // namespace rp::base
