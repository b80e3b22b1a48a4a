#include "server/core/claim_scheme.h"

#include <random>

#include "common/check.h"

namespace rp::core {
namespace {

// Pessimistic lock: each claim is its own transaction keyed by the packet, so claims on one
// packet never share a commit (each waits for the previous one's durable commit), while claims
// on different packets do share commits (group commit).
class DbLockScheme final : public ClaimScheme {
 public:
  explicit DbLockScheme(ClaimSchemeDeps deps) : deps_(deps), rng_(deps.rng_seed) {}

  std::string_view name() const override { return "db_lock"; }

  void Claim(int64_t packet_id, int64_t user_id, ClaimDone done) override {
    auto outcome = std::make_shared<ClaimOutcome>();
    base::WriteJob job;
    job.lock_key = packet_id;
    // rng_ is only touched on the writer thread, so it needs no lock.
    job.fn = [this, packet_id, user_id, outcome](sql::Db& db) {
      return ClaimTx(db, packet_id, user_id, deps_.clock->NowMs(), rng_, outcome.get());
    };
    job.done = [outcome, done](const Status& s) {
      if (s.ok()) {
        done(std::move(*outcome));
      } else {
        done(s);
      }
    };
    Status s = deps_.writer->Submit(std::move(job));
    if (!s.ok()) done(s);
  }

 private:
  ClaimSchemeDeps deps_;
  std::mt19937_64 rng_;
};

}  // namespace

Result<std::unique_ptr<ClaimScheme>> MakeClaimScheme(std::string_view name, ClaimSchemeDeps deps) {
  RP_CHECK(deps.writer != nullptr && deps.clock != nullptr);
  if (name == "db_lock") return std::unique_ptr<ClaimScheme>(new DbLockScheme(deps));
  return InvalidArgument("unknown_scheme", "unknown claim scheme " + std::string(name));
}

}  // namespace rp::core
