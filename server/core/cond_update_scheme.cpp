#include "server/core/cond_update_scheme.h"

#include <memory>
#include <mutex>
#include <optional>
#include <unordered_map>

#include "common/claim_schemes.h"
#include "server/core/final_packets.h"
#include "server/ledger/claims.h"
#include "server/ledger/packets.h"

namespace rp::core {
namespace {

// How many times a claim is tried against a packet that moved on before it is answered 503:
// each try reads the packet again, so only a packet other instances claim from just as fast
// runs out of them.
constexpr int kTriesMax = 4;
// Packets remembered; past this the memory starts again empty (each packet's next claim reads
// its row once more).
constexpr size_t kSeenPacketsMax = 100000;

// The packets as this process last saw them, for the next claim to draw from without reading
// the row. Only an accelerator: a stale entry makes the guarded update fail, and the claim reads
// the row again. Thread-safe.
class SeenPackets {
 public:
  std::optional<ledger::PacketRecord> Get(int64_t packet_id) {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = seen_.find(packet_id);
    if (it == seen_.end()) return std::nullopt;
    return it->second;
  }
  void Put(const ledger::PacketRecord& p) {
    std::lock_guard<std::mutex> lock(mu_);
    if (seen_.size() >= kSeenPacketsMax && seen_.find(p.packet_id) == seen_.end()) seen_.clear();
    seen_[p.packet_id] = p;
  }
  void Forget(int64_t packet_id) {
    std::lock_guard<std::mutex> lock(mu_);
    seen_.erase(packet_id);
  }

 private:
  std::mutex mu_;
  std::unordered_map<int64_t, ledger::PacketRecord> seen_;
};

// Conditional update: nothing is locked while a claim is decided. The share is drawn from the
// packet as this process last saw it (kept from its previous claim, or read without a lock),
// the claim and its transfer order are written, and the packet's counters last — only if the
// packet still has the claims it was seen with (ClaimOnSeenTx). The packet's row lock is held
// from that update to the commit: on a database server one round trip, against db_lock's whole
// transaction. Claims of one packet in this process run one at a time (inproc_key), so they do
// not conflict with each other; a packet another instance claimed from, a refund or a repeat
// claimer makes the claim read the packet again and try once more, at most kTriesMax times.
// On the embedded engine, whose single writer serialises everything, it behaves like db_lock.
//
// Refusals stay off the write path: once a claim found its packet final (sold out, expired,
// refunded), the packet and its claimers are remembered (FinalPackets), and everyone else's
// claims on it are refused in-process — no write job, no row lock, no round trip.
class CondUpdateScheme final : public ClaimScheme {
 public:
  explicit CondUpdateScheme(const ClaimSchemeDeps& deps) : deps_(deps), rngs_(deps.rng_seed) {}

  std::string_view name() const override { return SchemeName(ClaimSchemeId::kCondUpdate); }

  void Claim(int64_t packet_id, int64_t user_id, ClaimDone done) override {
    Status refused = final_.Refusal(packet_id, user_id);
    if (!refused.ok()) return done(refused);
    Try(packet_id, user_id, std::move(done), 0);
  }

 private:
  // One write job for the claim; `tries` jobs before it found the packet moved on.
  void Try(int64_t packet_id, int64_t user_id, ClaimDone done, int tries) {
    auto outcome = std::make_shared<ClaimOutcome>();
    // Counts this job's runs too: an engine that retries a job that lost a race runs it again,
    // and a run after the first must not trust what was seen.
    auto runs = std::make_shared<int>(tries);
    ledger::WriteJob job;
    job.claim = true;
    job.lock_key = packet_id;  // The embedded engine imitates the row lock held to commit.
    job.inproc_key = packet_id;
    job.fn = [this, packet_id, user_id, outcome, runs](ledger::Tx& tx) {
      const bool fresh = (*runs)++ > 0;
      return ClaimInJob(tx, packet_id, user_id, fresh, outcome.get());
    };
    job.done = [this, packet_id, user_id, outcome, done, tries](const Status& s) {
      if (s.ok()) return done(std::move(*outcome));
      seen_.Forget(packet_id);
      const bool moved_on = s.Is(Error::kStateChanged) || s.Is(Error::kConstraintViolation);
      if (!moved_on) return done(s);
      if (tries + 1 < kTriesMax) return Try(packet_id, user_id, done, tries + 1);
      done(Status(Error::kStorageBusy,
                  "packet " + std::to_string(packet_id) + " kept changing under the claim; retry"));
    };
    Status s = deps_.ledger->Submit(std::move(job));
    if (!s.ok()) done(s);
  }

  // In the write job. `fresh`: read the packet (and the claimer's earlier claim) instead of
  // trusting what this process saw last.
  Status ClaimInJob(ledger::Tx& tx, int64_t packet_id, int64_t user_id, bool fresh,
                    ClaimOutcome* out) {
    std::optional<ledger::PacketRecord> seen;
    if (!fresh) seen = seen_.Get(packet_id);
    if (!seen) {
      Result<ledger::PacketRecord> loaded = ledger::packets::Load(tx, packet_id);
      if (!loaded.ok()) return loaded.status();
      seen = std::move(loaded.value());
      seen_.Put(*seen);
      if (fresh) {
        // A claim insert refused as a repeat lands here: the claimer gets its claim back.
        Result<bool> repeat = FindRepeat(tx, packet_id, user_id, out);
        if (!repeat.ok()) return repeat.status();
        if (*repeat) return Status::Ok();
      }
    }
    const int64_t now_ms = deps_.clock->NowMs();
    if (Status refusal = CheckClaimable(*seen, now_ms); !refusal.ok()) {
      // Sold out or expired: a claimer who won before still gets its claim, as with every scheme.
      Result<bool> repeat = FindRepeat(tx, packet_id, user_id, out);
      if (!repeat.ok()) return repeat.status();
      if (*repeat) return Status::Ok();
      // A final state seen is never stale. A failed read remembers nothing; the refusal stands.
      (void)final_.Load(tx, packet_id, seen->state);
      return refusal;
    }
    ShareRng rng = rngs_.Next();
    ledger::PacketRecord after;
    Status s = ClaimOnSeenTx(tx, *seen, user_id, now_ms, rng, out, &after);
    if (!s.ok()) return s;
    seen_.Put(after);  // The next claim of this packet here runs after this one (inproc_key).
    return Status::Ok();
  }

  // True with *out set (a repeat) when the user already has a claim on the packet.
  static Result<bool> FindRepeat(ledger::Tx& tx, int64_t packet_id, int64_t user_id,
                                 ClaimOutcome* out) {
    Result<std::optional<ledger::ClaimRecord>> mine = ledger::claims::Find(tx, packet_id, user_id);
    if (!mine.ok()) return mine.status();
    if (!*mine) return false;
    *out = {**mine, true, std::nullopt};
    return true;
  }

  ClaimSchemeDeps deps_;
  JobRngSource rngs_;
  SeenPackets seen_;
  FinalPackets final_{static_cast<size_t>(deps_.options.final_packets_max)};
};

}  // namespace

std::unique_ptr<ClaimScheme> MakeCondUpdateScheme(const ClaimSchemeDeps& deps) {
  return std::make_unique<CondUpdateScheme>(deps);
}

}  // namespace rp::core
