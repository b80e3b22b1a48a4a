#include "server/core/mem_lock_scheme.h"

#include <spdlog/spdlog.h>

#include <atomic>
#include <random>

#include "common/blocking_pool.h"
#include "common/check.h"
#include "common/claim_schemes.h"
#include "server/base/redis_client.h"
#include "server/base/redis_pipeline.h"
#include "server/core/final_packets.h"
#include "server/core/inflight.h"
#include "server/ledger/packets.h"

namespace rp::core {
namespace {

// KEYS: remaining counter, claimers set. ARGV: user. Returns 2 (this user claimed already: ask
// the ledger), 1 (a share is reserved), 0 (sold out), -1 (no counter: use the ledger).
const base::RedisScript kReserve(R"lua(
if redis.call('SISMEMBER', KEYS[2], ARGV[1]) == 1 then return 2 end
local left = redis.call('GET', KEYS[1])
if not left then return -1 end
if tonumber(left) <= 0 then return 0 end
redis.call('DECR', KEYS[1])
redis.call('SADD', KEYS[2], ARGV[1])
return 1
)lua");
constexpr int kPipelineBatchMax = 256;  // Reservations per Redis round trip, at most.

// What kReserve answered, parsed once where the reply arrives.
enum class Reservation {
  kReserved,        // 1: a share is held for this user.
  kSoldOut,         // 0: the counter says none is left.
  kAlreadyClaimer,  // 2: the user is in the claimers set: the ledger has (or gets) their claim.
  kNoCounter,       // -1: no counter (never built, flushed, expired): the ledger, then rebuild.
  kUnanswered,      // Redis failed, timed out, or answered something the script never returns.
};

Reservation ParseReservation(const Result<int64_t>& reply) {
  if (!reply.ok()) return Reservation::kUnanswered;
  switch (*reply) {
    case 1:
      return Reservation::kReserved;
    case 0:
      return Reservation::kSoldOut;
    case 2:
      return Reservation::kAlreadyClaimer;
    case -1:
      return Reservation::kNoCounter;
    default:
      return Reservation::kUnanswered;
  }
}

class MemLockScheme final : public ClaimScheme {
 public:
  explicit MemLockScheme(const ClaimSchemeDeps& deps) : d_(deps), rngs_(deps.rng_seed) {
    RP_CHECK(d_.redis != nullptr);
  }

  std::string_view name() const override { return SchemeName(ClaimSchemeId::kMemLock); }
  SchemeStats Stats() const override {
    return {fallbacks_.load(), divergences_.load(), d_.redis->errors() + pipeline_.errors()};
  }

  // The reservation is pipelined: no thread waits for Redis (see OnReserve).
  void Claim(int64_t packet_id, int64_t user_id, ClaimDone done) override {
    // A packet the ledger showed final refuses everyone but its claimers here, on the caller's
    // thread: no pool hop, no Redis, no ledger.
    Status refused = final_.Refusal(packet_id, user_id);
    if (!refused.ok()) return done(refused);
    Status s = pipeline_.EvalInt(kReserve, {LeftKey(packet_id), UsersKey(packet_id)},
                                 {std::to_string(user_id)},
                                 [this, packet_id, user_id, done](Result<int64_t> verdict) {
                                   OnReserve(packet_id, user_id, verdict, done);
                                 });
    if (!s.ok()) OnReserve(packet_id, user_id, s, done);  // As if Redis failed: the ledger path.
  }

  // The pipeline first: its completions submit to the pool.
  void Stop() override {
    pipeline_.Stop();
    pool_.Stop();
  }

  Status DropCachedState(const std::vector<int64_t>& packet_ids) override {
    std::vector<std::string> keys;
    keys.reserve(packet_ids.size() * 2);
    for (int64_t id : packet_ids) {
      keys.push_back(LeftKey(id));
      keys.push_back(UsersKey(id));
    }
    return d_.redis->DeleteKeys(keys);
  }

 private:
  // The remaining-count counter and the claimers set of a packet.
  static std::string LeftKey(int64_t packet_id) { return "rp:left:" + std::to_string(packet_id); }
  static std::string UsersKey(int64_t packet_id) { return "rp:users:" + std::to_string(packet_id); }

  // On the pipeline's thread, in the order Redis ran the reservations: one that took a share is
  // registered in flight before the completion of any reservation Redis ran after it, so the
  // sold-out check a later "0" makes counts it. Must not block: that check reads the ledger, so
  // it runs on the pool.
  void OnReserve(int64_t packet_id, int64_t user_id, const Result<int64_t>& reply,
                 const ClaimDone& done) {
    const Reservation r = ParseReservation(reply);
    if (r == Reservation::kReserved) inflight_.Add(packet_id);
    if (r == Reservation::kSoldOut) {
      Status s = pool_.Submit(
          [this, packet_id, user_id, done] { CheckSoldOut(packet_id, user_id, done); });
      if (!s.ok()) done(s);
      return;
    }
    if (r == Reservation::kUnanswered) ++fallbacks_;  // The ledger alone decides.
    const bool rebuild = r == Reservation::kUnanswered || r == Reservation::kNoCounter;
    ToLedger(packet_id, user_id, r == Reservation::kReserved, rebuild, done);
  }

  // Sold out by the counter: answered from the read side, no ledger write. A repeat claimer
  // still gets their claim; a counter that says 0 while the ledger has shares left (stale after
  // a Redis restore) is resynced and this claim goes to the ledger.
  void CheckSoldOut(int64_t packet_id, int64_t user_id, const ClaimDone& done) {
    SoldOutCheck c = VerifySoldOut(*d_.ledger, inflight_, packet_id, user_id);
    if (c.kind == SoldOutCheck::kRepeat) return done(std::move(c.repeat));
    if (c.kind == SoldOutCheck::kSoldOut) {
      if (c.state && ledger::IsFinal(*c.state)) RememberFinal(packet_id);
      return done(c.Refusal());
    }
    ++divergences_;
    ++fallbacks_;  // Stale: the ledger path.
    (void)d_.redis->Command({"SET", LeftKey(packet_id), std::to_string(c.remaining_count), "EX",
                             std::to_string(d_.options.redis_key_ttl_s)});
    ToLedger(packet_id, user_id, /*reserved=*/false, /*rebuild=*/true, done);
  }

  // The ledger decides, one claim of this packet at a time in this process.
  void ToLedger(int64_t packet_id, int64_t user_id, bool reserved, bool rebuild,
                const ClaimDone& done) {
    const std::string left = LeftKey(packet_id);
    const std::string users = UsersKey(packet_id);
    if (!reserved) inflight_.Add(packet_id);  // Every claim on its way to the ledger.
    auto outcome = std::make_shared<ClaimOutcome>();
    auto remaining = std::make_shared<int64_t>(-1);
    ledger::WriteJob job;
    job.claim = true;
    // The in-memory lock: one claim per packet at a time in this process, in front of the row
    // lock the claim transaction takes.
    job.lock_key = packet_id;
    job.inproc_key = packet_id;
    job.fn = [this, packet_id, user_id, rebuild, outcome, remaining](ledger::Tx& tx) {
      ShareRng rng = rngs_.Next();
      Status s = ClaimTx(tx, packet_id, user_id, d_.clock->NowMs(), rng, outcome.get());
      // A claim that won through a reservation leaves the counter right; any other outcome may
      // resync it from this read (which cannot change what the claim decided).
      if (s.ok() && !outcome->repeat && !rebuild) return s;
      Result<ledger::PacketRecord> p = ledger::packets::Load(tx, packet_id);
      if (p.ok()) {
        *remaining = p->state == ledger::PacketState::kActive ? p->remaining_count() : 0;
      }
      return s;
    };
    job.done = [this, packet_id, left, users, user_id, reserved, rebuild, outcome, remaining,
                done](const Status& s) {
      inflight_.Done(packet_id);
      Settlement settle{left, users, user_id, reserved, rebuild, s, outcome->repeat, *remaining};
      // The writer's completion path must not wait for Redis (ledger/engine.h): the counter is
      // kept honest on the pool. A full pool skips it; the counter then stays off until a claim
      // finds it wrong (sold out by the counter is checked on the ledger, too many shares are
      // refused by it), and either resyncs it: slower, never a wrong answer.
      if (settle.needed()) (void)pool_.Submit([this, settle] { Settle(settle); });
      if (s.ok()) return done(std::move(*outcome));
      // A refusal the counter did not foresee (it let the claim through, or was missing): the
      // packet is remembered as final before the answer, as a refusal checked on the read side
      // is, so the claims that follow this answer are refused in-process whatever Redis does.
      if (s.Is(Error::kSoldOut) || s.Is(Error::kExpired)) {
        Status posted = pool_.Submit([this, packet_id, s, done] {
          RememberFinal(packet_id);
          done(s);
        });
        if (posted.ok()) return;
      }
      done(s);
    };
    Status s = d_.ledger->Submit(std::move(job));
    if (!s.ok()) {
      inflight_.Done(packet_id);
      if (reserved) {  // Give the share back (off the pipeline's thread: it must not block).
        (void)pool_.Submit([this, left] { (void)d_.redis->Command({"INCR", left}); });
      }
      done(s);
    }
  }

  // What the ledger decided about a claim, for keeping the counter honest afterwards.
  struct Settlement {
    std::string left, users;  // The packet's counter and claimers keys.
    int64_t user_id = 0;
    bool reserved = false;   // The claim took a share from the counter.
    bool rebuild = false;    // The counter was missing or unreachable: rebuild it.
    Status status;           // The claim transaction's outcome.
    bool repeat = false;     // The user's earlier claim was returned.
    int64_t remaining = -1;  // Shares the ledger had left (-1: not read).
    bool won() const { return status.ok() && !repeat; }
    bool needed() const { return (reserved && !won()) || (rebuild && remaining >= 0); }
  };

  // On the pool: a couple of Redis commands with a short deadline each.
  void Settle(const Settlement& st) {
    const std::string ttl_s = std::to_string(d_.options.redis_key_ttl_s);
    if (st.reserved && !st.won()) {
      if (st.status.Is(Error::kSoldOut) || st.status.Is(Error::kExpired)) {
        // The counter let a claim through the ledger refused: it diverged. Resync.
        ++divergences_;
        (void)d_.redis->Command(  // Best effort: a counter left wrong diverges again, is resynced.
            {"SET", st.left, std::to_string(std::max<int64_t>(st.remaining, 0)), "EX", ttl_s});
      } else {
        // A repeat the set did not know (it was rebuilt), or a failure that is not about
        // shares: the reserved share was not used, give it back.
        (void)d_.redis->Command({"INCR", st.left});
      }
    }
    if (st.rebuild && st.remaining >= 0) {
      // The counter was missing (new packet, flush, Redis restart): rebuild it from the ledger.
      // NX: a concurrent rebuild that already wrote a fresher value wins.
      (void)d_.redis->Command({"SET", st.left, std::to_string(st.remaining), "NX", "EX", ttl_s});
      // Best effort: a claimer missing from the set is refused by the ledger's unique claim.
      if (st.status.ok()) (void)d_.redis->Command({"SADD", st.users, std::to_string(st.user_id)});
    }
  }

  // Loads a final packet's claimers once (a read of at most claim.final_packets_max rows).
  void RememberFinal(int64_t packet_id) {
    // A failed read remembers nothing: the next refusal of this packet tries again.
    (void)d_.ledger->Read([&](ledger::ReadTx& tx) {
      Result<ledger::PacketRecord> p = ledger::packets::Load(tx, packet_id);
      if (!p.ok()) return p.status();
      // Read after the state: a packet final already cannot change its claims.
      return final_.Load(tx, packet_id, p->state);
    });
  }

  ClaimSchemeDeps d_;
  JobRngSource rngs_;
  std::atomic<int64_t> fallbacks_{0};
  std::atomic<int64_t> divergences_{0};
  InflightClaims inflight_;
  FinalPackets final_{static_cast<size_t>(d_.options.final_packets_max)};
  // Outlives the pipeline, whose completions submit to it (its own tasks never use the pipeline).
  BlockingPool pool_{d_.options.redis_threads, d_.options.redis_queue_max,
                     std::string(SchemeName(ClaimSchemeId::kMemLock))};
  // Last: destroyed first, so the completions it still runs find everything above alive.
  base::RedisPipeline pipeline_{
      {d_.redis->options(), d_.options.redis_queue_max, kPipelineBatchMax}};
};

}  // namespace

std::unique_ptr<ClaimScheme> MakeMemLockScheme(const ClaimSchemeDeps& deps) {
  return std::make_unique<MemLockScheme>(deps);
}

}  // namespace rp::core
