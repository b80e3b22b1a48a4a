#include "server/core/ledger_schemes.h"

#include <memory>
#include <mutex>
#include <random>
#include <unordered_map>
#include <vector>

#include "common/check.h"
#include "common/claim_schemes.h"

namespace rp::core {
namespace {

// Pessimistic lock: each claim is its own transaction keyed by the packet, so claims on one
// packet never share a commit (each waits for the previous one's durable commit), while claims
// on different packets do share commits (group commit).
class DbLockScheme final : public ClaimScheme {
 public:
  explicit DbLockScheme(const ClaimSchemeDeps& deps) : deps_(deps), rngs_(deps.rng_seed) {}

  std::string_view name() const override { return SchemeName(ClaimSchemeId::kDbLock); }

  void Claim(int64_t packet_id, int64_t user_id, ClaimDone done) override {
    auto outcome = std::make_shared<ClaimOutcome>();
    ledger::WriteJob job;
    job.claim = true;
    job.lock_key = packet_id;
    job.fn = [this, packet_id, user_id, outcome](ledger::Tx& tx) {
      ShareRng rng = rngs_.Next();
      return ClaimTx(tx, packet_id, user_id, deps_.clock->NowMs(), rng, outcome.get());
    };
    job.done = [outcome, done](const Status& s) {
      if (s.ok()) return done(std::move(*outcome));
      done(s);
    };
    Status s = deps_.ledger->Submit(std::move(job));
    if (!s.ok()) done(s);
  }

 private:
  ClaimSchemeDeps deps_;
  JobRngSource rngs_;
};

// Batched: claims on one packet queue in memory and commit as a group — many claims per write
// transaction, each in its own savepoint so a sold-out claim does not undo the others. A batch
// stays open while its job waits for the writer (that wait is the batching window; there is no
// timer to tune) and closes when the writer starts it or when it holds batch_max claims. Batches
// of one packet never share a commit (lock_key), so each commit carries one packet's batch;
// batches of different packets group-commit as usual. Every caller is answered after the commit,
// or with the job's error when it failed — whether or not its transaction ever started.
class BatchedScheme final : public ClaimScheme {
 public:
  explicit BatchedScheme(const ClaimSchemeDeps& deps) : deps_(deps), rngs_(deps.rng_seed) {}

  std::string_view name() const override { return SchemeName(ClaimSchemeId::kBatched); }

  void Claim(int64_t packet_id, int64_t user_id, ClaimDone done) override {
    std::shared_ptr<Batch> batch = Join(packet_id, user_id, done);
    if (!batch) return;  // Joined an open batch: answered when it commits.
    ledger::WriteJob job;
    job.claim = true;
    job.lock_key = packet_id;
    job.inproc_key = packet_id;
    job.fn = [this, packet_id, batch](ledger::Tx& tx) { return RunBatch(tx, packet_id, batch); };
    job.done = [this, packet_id, batch](const Status& s) {
      // The job may end without its transaction ever starting (the connection was lost before
      // BEGIN, the job's deadline passed in the queue): close the batch here too, or later claims
      // would join a batch nobody runs any more. Closed under mu_, its claims are ours alone.
      Close(packet_id, batch);
      for (Pending& c : batch->claims) {
        if (!s.ok()) {
          c.done(s);
        } else if (!c.status.ok()) {
          c.done(c.status);
        } else {
          c.done(std::move(c.outcome));
        }
      }
    };
    Status s = deps_.ledger->Submit(std::move(job));
    if (!s.ok()) {
      Close(packet_id, batch);                     // Nobody joins a batch that will never run...
      for (Pending& c : batch->claims) c.done(s);  // ...and everyone in it hears why.
    }
  }

 private:
  struct Pending {
    int64_t user_id;
    ClaimDone done;
    ClaimOutcome outcome;
    Status status;
  };
  struct Batch {
    std::vector<Pending> claims;  // Appended under mu_ while open; the closer's alone after.
  };

  // Adds the claim to the packet's open batch; returns a new batch (which the caller submits)
  // when there was none open or it was full, null when the claim joined one.
  std::shared_ptr<Batch> Join(int64_t packet_id, int64_t user_id, ClaimDone& done) {
    std::lock_guard<std::mutex> lock(mu_);
    std::shared_ptr<Batch>& open = open_[packet_id];
    if (open && static_cast<int>(open->claims.size()) < deps_.options.batch_max) {
      open->claims.push_back({user_id, std::move(done), {}, Status::Ok()});
      return nullptr;
    }
    open = std::make_shared<Batch>();
    open->claims.push_back({user_id, std::move(done), {}, Status::Ok()});
    return open;
  }

  void Close(int64_t packet_id, const std::shared_ptr<Batch>& batch) {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = open_.find(packet_id);
    if (it != open_.end() && it->second == batch) open_.erase(it);
  }

  // On the writer thread: close the batch, then claim for each member in its own savepoint,
  // the packet row written once for the batch.
  Status RunBatch(ledger::Tx& tx, int64_t packet_id, const std::shared_ptr<Batch>& batch) {
    Close(packet_id, batch);  // From here on, batch->claims is ours alone.
    std::vector<int64_t> users;
    for (const Pending& c : batch->claims) users.push_back(c.user_id);
    ShareRng rng = rngs_.Next();
    std::vector<ClaimOutcome> outcomes;
    std::vector<Status> statuses;
    Status s = ClaimBatchTx(tx, packet_id, users, deps_.clock->NowMs(), rng, &outcomes, &statuses);
    if (!s.ok()) return s;
    for (size_t i = 0; i < batch->claims.size(); ++i) {
      batch->claims[i].outcome = std::move(outcomes[i]);
      batch->claims[i].status = std::move(statuses[i]);
    }
    return Status::Ok();
  }

  ClaimSchemeDeps deps_;
  JobRngSource rngs_;
  std::mutex mu_;
  std::unordered_map<int64_t, std::shared_ptr<Batch>> open_;
};

}  // namespace

std::unique_ptr<ClaimScheme> MakeDbLockScheme(const ClaimSchemeDeps& deps) {
  return std::make_unique<DbLockScheme>(deps);
}

std::unique_ptr<ClaimScheme> MakeBatchedScheme(const ClaimSchemeDeps& deps) {
  return std::make_unique<BatchedScheme>(deps);
}

}  // namespace rp::core
