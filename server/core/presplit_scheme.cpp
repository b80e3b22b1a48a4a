#include "server/core/presplit_scheme.h"

#include <atomic>
#include <mutex>
#include <random>
#include <unordered_set>

#include "common/blocking_pool.h"
#include "common/check.h"
#include "common/claim_schemes.h"
#include "server/base/redis_client.h"
#include "server/base/redis_pipeline.h"
#include "server/core/inflight.h"
#include "server/core/split.h"
#include "server/ledger/shares.h"

namespace rp::core {
namespace {

// KEYS: index list, claimers hash, "split" flag, "filling" lock. ARGV: user.
// Returns the index (>= 0), -2 (this user holds an index: ask the ledger), -3 (sold out: the
// list is empty although it was filled), -4 (a fill is under way: use the ledger, do not fill),
// -1 (nothing known: use the ledger and fill).
const base::RedisScript kTake(R"lua(
if redis.call('HEXISTS', KEYS[2], ARGV[1]) == 1 then return -2 end
local idx = redis.call('LPOP', KEYS[1])
if not idx then
  if redis.call('EXISTS', KEYS[3]) == 1 then return -3 end
  if redis.call('EXISTS', KEYS[4]) == 1 then return -4 end
  return -1
end
redis.call('HSET', KEYS[2], ARGV[1], idx)
return tonumber(idx)
)lua");
constexpr int kPipelineBatchMax = 256;  // Takes per Redis round trip, at most.

// A popped index the ledger did not use (the claim failed, or was a repeat the hash did not
// know): back to the list, unless the user's entry has changed since.
// KEYS: index list, claimers hash. ARGV: user, index.
constexpr const char* kGiveBack = R"lua(
if redis.call('HGET', KEYS[2], ARGV[1]) ~= ARGV[2] then return 0 end
redis.call('HDEL', KEYS[2], ARGV[1])
redis.call('LPUSH', KEYS[1], ARGV[2])
return 1
)lua";

// Filling runs in chunks under a "filling" lock; the "split" flag is set only when the list is
// complete, so until then claims see no flag and take the ledger path (never a false sold-out).
// KEYS: index list. ARGV: ttl, then a chunk of free indexes.
constexpr const char* kPushChunk = R"lua(
for i = 2, #ARGV do redis.call('RPUSH', KEYS[1], ARGV[i]) end
redis.call('EXPIRE', KEYS[1], ARGV[1])
return #ARGV - 1
)lua";
constexpr int kFillChunk = 1000;
constexpr size_t kFillingMax = 1024;
// KEYS: "filling" lock, "split" flag. ARGV: ttl. 1 when this caller took the lock; 0 when
// another filler holds it or the list is already complete (a second fill would push indexes
// that claims have taken since the first).
constexpr const char* kTryLock = R"lua(
if redis.call('EXISTS', KEYS[2]) == 1 then return 0 end
if redis.call('SET', KEYS[1], '1', 'NX', 'EX', ARGV[1]) then return 1 end
return 0
)lua";

// Draws the shares of a packet that has none yet, with the packet's own split: in the
// transaction that creates the packet, or on the first presplit claim of a packet created under
// another scheme — which may have been claimed under it already (a server restarted under
// presplit), so what is drawn is what remains: its remaining shares from its remaining cents.
Status EnsureShares(ledger::Tx& tx, const ledger::PacketRecord& p, ShareRng& rng) {
  Result<bool> drawn = ledger::shares::AnyDrawn(tx, p.packet_id);
  if (!drawn.ok()) return drawn.status();
  if (*drawn) return Status::Ok();
  int64_t left = p.remaining_cents();
  const int64_t count = p.remaining_count();
  for (int64_t i = 0; i < count; ++i) {
    const int64_t amount = DrawShare(p.split, left, count - i, p.share_cap_cents, rng);
    left -= amount;
    Status s = ledger::shares::Insert(tx, p.packet_id, i, amount);
    if (!s.ok()) return s;
  }
  RP_CHECK(left == 0);
  return Status::Ok();
}

// Whether taking `amount` leaves the packet's remainder splittable into its remaining shares,
// each at least 1 cent and at most the cap. Shares drawn up front always are, unless claims
// under another scheme (which draw from the packet row, not from the shares) moved the
// remainder since: a server restarted under another scheme on the same ledger.
bool Fits(const ledger::PacketRecord& p, int64_t amount) {
  const int64_t left_cents = p.remaining_cents() - amount;
  const int64_t left_count = p.remaining_count() - 1;
  return amount >= 1 && amount <= p.share_cap_cents && left_cents >= left_count &&
         left_cents <= left_count * p.share_cap_cents;
}

// Takes share `idx` for the user if it is free, else the next free share.
Result<int64_t> TakeShare(ledger::Tx& tx, int64_t packet_id, int64_t idx, int64_t user_id) {
  if (idx >= 0) {
    Result<std::optional<int64_t>> amount = ledger::shares::Take(tx, packet_id, idx, user_id);
    if (!amount.ok()) return amount.status();
    if (*amount) return **amount;
  }
  Result<std::optional<int64_t>> any = ledger::shares::TakeNextFree(tx, packet_id, user_id);
  if (!any.ok()) return any.status();
  if (*any) return **any;
  return Internal("packet has remaining shares in its row but no free share row");
}

class PresplitScheme final : public ClaimScheme {
 public:
  explicit PresplitScheme(const ClaimSchemeDeps& deps) : d_(deps), rngs_(deps.rng_seed) {
    RP_CHECK(d_.redis != nullptr);
  }

  std::string_view name() const override { return SchemeName(ClaimSchemeId::kPresplit); }
  SchemeStats Stats() const override {
    return {fallbacks_.load(), divergences_.load(), d_.redis->errors() + pipeline_.errors()};
  }

  // The take is pipelined: no thread waits for Redis (see OnTake).
  void Claim(int64_t packet_id, int64_t user_id, ClaimDone done) override {
    const Keys k = KeysOf(packet_id);
    Status s =
        pipeline_.EvalInt(kTake, {k.list, k.holders, k.flag, k.filling}, {std::to_string(user_id)},
                          [this, packet_id, user_id, done](Result<int64_t> idx) {
                            OnTake(packet_id, user_id, idx, done);
                          });
    if (!s.ok()) OnTake(packet_id, user_id, s, done);  // As if Redis failed: the ledger path.
  }

  // The seed's pre-split: the shares are drawn when the packet is created...
  Status PrepareNewPacket(ledger::Tx& tx, const ledger::PacketRecord& packet) override {
    ShareRng rng = rngs_.Next();
    return EnsureShares(tx, packet, rng);
  }
  // ...and their indexes pushed to Redis once that is durable, before the packet is paid, so
  // the first claims already find them. A failed fill leaves no flag: claims use the ledger
  // and the first of them fills again.
  void NewPacketCommitted(const ledger::PacketRecord& packet) override {
    auto all = std::make_shared<std::vector<int64_t>>(static_cast<size_t>(packet.count));
    for (int64_t i = 0; i < packet.count; ++i) (*all)[static_cast<size_t>(i)] = i;
    const Keys k = KeysOf(packet.packet_id);
    // A full pool: the first claim finds the list unfilled and fills it then.
    (void)pool_.Submit([this, k, all] { Fill(k, *all); });
  }

  // The pipeline first: its completions submit to the pool.
  void Stop() override {
    pipeline_.Stop();
    pool_.Stop();
  }

  Status DropCachedState(const std::vector<int64_t>& packet_ids) override {
    std::vector<std::string> keys;
    keys.reserve(packet_ids.size() * 4);
    for (int64_t id : packet_ids) {
      const Keys k = KeysOf(id);
      keys.insert(keys.end(), {k.list, k.holders, k.flag, k.filling});
    }
    return d_.redis->DeleteKeys(keys);
  }

 private:
  struct Keys {
    std::string list, holders, flag, filling;
  };
  static Keys KeysOf(int64_t packet_id) {
    const std::string id = std::to_string(packet_id);
    return {"rp:shares:" + id, "rp:holders:" + id, "rp:split:" + id, "rp:split:" + id + ":filling"};
  }

  // On the pipeline's thread, in the order Redis ran the takes: a popped index is registered in
  // flight here, before the completion of any take Redis ran after it, so the sold-out check a
  // later take's "-3" makes counts it (a claim that popped the last index is never missing from
  // both the in-flight count and the ledger). Must not block: that check reads the ledger, so
  // it runs on the pool.
  void OnTake(int64_t packet_id, int64_t user_id, const Result<int64_t>& idx,
              const ClaimDone& done) {
    const bool popped = idx.ok() && *idx >= 0;
    if (popped) inflight_.Add(packet_id);
    if (idx.ok() && *idx == -3) {
      Status s = pool_.Submit(
          [this, packet_id, user_id, done] { CheckSoldOut(packet_id, user_id, done); });
      if (!s.ok()) done(s);
      return;
    }
    if (!idx.ok()) ++fallbacks_;  // Redis failed; -1/-4 (not filled yet) are not fallbacks.
    const int64_t wanted = idx.ok() ? *idx : -1;
    ToLedger(packet_id, user_id, wanted, popped, /*fill=*/idx.ok() && *idx == -1, done);
  }

  // Sold out per Redis: confirmed on the read side (repeats get their claim; a list emptied
  // wrongly sends this claim to the ledger, which collects the free shares to fill it again).
  void CheckSoldOut(int64_t packet_id, int64_t user_id, const ClaimDone& done) {
    SoldOutCheck c = VerifySoldOut(*d_.ledger, inflight_, packet_id, user_id);
    if (c.kind == SoldOutCheck::kRepeat) return done(std::move(c.repeat));
    if (c.kind == SoldOutCheck::kSoldOut) return done(c.Refusal());
    ++divergences_;
    // The list lost shares the ledger still has: drop the flag so it is filled again.
    const bool diverged = d_.redis->Command({"DEL", KeysOf(packet_id).flag}).ok();
    ToLedger(packet_id, user_id, -3, /*registered=*/false, diverged, done);
  }

  // The ledger decides: share `wanted` if it is free, else the next free one. `fill`: this claim
  // may collect the packet's free shares and refill the list afterwards.
  void ToLedger(int64_t packet_id, int64_t user_id, int64_t wanted, bool registered,
                bool fill_wanted, const ClaimDone& done) {
    const Keys k = KeysOf(packet_id);
    const std::string user = std::to_string(user_id);
    const bool fill = fill_wanted && BeginFill(packet_id);
    if (!registered) inflight_.Add(packet_id);  // Every claim on its way to the ledger.
    auto outcome = std::make_shared<ClaimOutcome>();
    auto free_idx = std::make_shared<std::vector<int64_t>>();
    auto used = std::make_shared<bool>(false);  // The popped index reached the share table.
    ledger::WriteJob job;  // No lock key: a claim locks its share, not the packet.
    job.claim = true;
    job.fn = [this, packet_id, user_id, wanted, fill, outcome, free_idx, used](ledger::Tx& db) {
      ShareRng rng = rngs_.Next();
      ShareSource source = [&rng, this, wanted, fill, free_idx, used](
                               ledger::Tx& tx, const ledger::PacketRecord& p,
                               int64_t u) -> Result<int64_t> {
        Status s = EnsureShares(tx, p, rng);
        if (!s.ok()) return s;
        *used = true;
        Result<int64_t> taken = TakeShare(tx, p.packet_id, wanted, u);
        if (!taken.ok()) return taken;
        int64_t amount = *taken;
        if (!Fits(p, amount)) {
          // Another scheme's claims moved the remainder since the shares were drawn: this
          // claim's amount is drawn from the packet as theirs were, and its share row follows.
          amount =
              DrawShare(p.split, p.remaining_cents(), p.remaining_count(), p.share_cap_cents, rng);
          s = ledger::shares::SetTakenAmount(tx, p.packet_id, u, amount);
          if (!s.ok()) return s;
          ++divergences_;
        }
        if (fill) CollectFree(tx, p.packet_id, free_idx.get());
        return amount;
      };
      return ClaimTx(db, packet_id, user_id, d_.clock->NowMs(), rng, outcome.get(), &source);
    };
    job.done = [this, packet_id, user, wanted, k, fill, outcome, free_idx, used,
                done](const Status& s) {
      inflight_.Done(packet_id);
      // Off the writer's completion path: both talk to Redis.
      if (fill && s.ok() && !free_idx->empty()) {
        Status sub = pool_.Submit([this, packet_id, k, free_idx] {
          Fill(k, *free_idx);
          EndFill(packet_id);
        });
        if (!sub.ok()) EndFill(packet_id);
      } else if (fill) {
        EndFill(packet_id);
      }
      const bool shares_left = !s.Is(Error::kSoldOut) && !s.Is(Error::kExpired);
      if (wanted >= 0 && (!s.ok() || !*used) && shares_left) {
        // Best effort both: a share not given back is found again by the next refill.
        (void)pool_.Submit([this, k, user, wanted] {
          (void)d_.redis->EvalInt(kGiveBack, {k.list, k.holders}, {user, std::to_string(wanted)});
        });
      }
      if (s.ok()) return done(std::move(*outcome));
      done(s);
    };
    Status s = d_.ledger->Submit(std::move(job));
    if (!s.ok()) {
      inflight_.Done(packet_id);
      if (fill) EndFill(packet_id);
      done(s);
    }
  }

  // One claim per packet at a time collects the free shares for a fill: each collection reads
  // every free share of the packet in the writer, and claims that find no list arrive together.
  // Bounded: beyond kFillingMax packets, claims just take the ledger path without filling.
  bool BeginFill(int64_t packet_id) {
    std::lock_guard<std::mutex> lock(fill_mu_);
    if (filling_.size() >= kFillingMax) return false;
    return filling_.insert(packet_id).second;
  }
  void EndFill(int64_t packet_id) {
    std::lock_guard<std::mutex> lock(fill_mu_);
    filling_.erase(packet_id);
  }

  static void CollectFree(ledger::Tx& tx, int64_t packet_id, std::vector<int64_t>* out) {
    Result<std::vector<int64_t>> free = ledger::shares::FreeIndexes(tx, packet_id);
    if (free.ok()) *out = std::move(free.value());  // Else no fill: the next claim tries again.
  }

  // Pushes the free indexes to Redis once: the first filler takes the "filling" lock, pushes in
  // chunks, and sets the flag last. A failure leaves no flag: claims keep using the ledger and
  // the next ledger-path claim tries again once the lock expires.
  void Fill(const Keys& k, const std::vector<int64_t>& free) {
    const std::string ttl = std::to_string(d_.options.redis_key_ttl_s);
    Result<int64_t> locked = d_.redis->EvalInt(kTryLock, {k.filling, k.flag}, {"60"});
    if (!locked.ok() || *locked != 1) return;
    if (!d_.redis->Command({"DEL", k.list}).ok()) return;
    for (size_t at = 0; at < free.size(); at += kFillChunk) {
      std::vector<std::string> args = {ttl};
      for (size_t i = at; i < std::min(free.size(), at + kFillChunk); ++i) {
        args.push_back(std::to_string(free[i]));
      }
      if (!d_.redis->EvalInt(kPushChunk, {k.list}, args).ok()) return;
    }
    // Best effort: without the flag the next claim fills again (idempotent); a stale `filling`
    // key expires on its own.
    (void)d_.redis->Command({"SET", k.flag, "1", "EX", ttl});
    (void)d_.redis->Command({"DEL", k.filling});
  }

  ClaimSchemeDeps d_;
  JobRngSource rngs_;
  std::atomic<int64_t> fallbacks_{0};
  std::atomic<int64_t> divergences_{0};
  InflightClaims inflight_;
  std::mutex fill_mu_;
  std::unordered_set<int64_t> filling_;  // Packets whose free shares a claim is collecting.
  // Outlives the pipeline, whose completions submit to it (its own tasks never use the pipeline).
  BlockingPool pool_{d_.options.redis_threads, d_.options.redis_queue_max,
                     std::string(SchemeName(ClaimSchemeId::kPresplit))};
  // Last: destroyed first, so the completions it still runs find everything above (the pool
  // included) alive.
  base::RedisPipeline pipeline_{
      {d_.redis->options(), d_.options.redis_queue_max, kPipelineBatchMax}};
};

}  // namespace

std::unique_ptr<ClaimScheme> MakePresplitScheme(const ClaimSchemeDeps& deps) {
  return std::make_unique<PresplitScheme>(deps);
}

}  // namespace rp::core
