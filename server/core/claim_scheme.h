// ClaimScheme: how concurrent claims on one packet contend. Engineers switch schemes
// (claim.scheme, --claim-scheme) to compare them; every scheme ends in the same ClaimTx in the
// ledger, so the money rules are identical and only contention and cost differ. The schemes by
// name are listed once, in common/claim_schemes.h; their factories in core/scheme_registry.h.
#pragma once

#include <mutex>
#include <random>

#include <cstdint>
#include <functional>
#include <memory>
#include <string_view>
#include <vector>

#include "common/clock.h"
#include "common/status.h"
#include "server/core/claim_tx.h"
#include "server/core/options.h"
#include "server/ledger/engine.h"
#include "server/ledger/records.h"

namespace rp::base {
class RedisPool;
}

namespace rp::core {

using ClaimDone = std::function<void(Result<ClaimOutcome>)>;

// Counters a scheme keeps (exported in /metrics). Monotonic.
struct SchemeStats {
  int64_t fallbacks = 0;    // Claims that went to the ledger because Redis failed or was stale.
  int64_t divergences = 0;  // Redis counters found out of step with the ledger and resynced.
  int64_t redis_errors = 0;
};

class ClaimScheme {
 public:
  virtual ~ClaimScheme() = default;
  virtual std::string_view name() const = 0;
  virtual SchemeStats Stats() const { return {}; }
  // Claims one share of packet_id for user_id. Thread-safe. `done` is called exactly once, on an
  // unspecified thread, after the claim is durable in the ledger (or with the error); it must not
  // block. Overloaded when the scheme cannot take more work right now.
  virtual void Claim(int64_t packet_id, int64_t user_id, ClaimDone done) = 0;

  // Runs inside the transaction that creates a packet (C2C send, B2C send; on the writer
  // thread, not for replays), so whatever a scheme keeps per share commits with the packet or
  // not at all. A non-OK status rolls the send back. Default: nothing.
  virtual Status PrepareNewPacket(ledger::Tx& /*tx*/, const ledger::PacketRecord& /*packet*/) {
    return Status::Ok();
  }
  // After that transaction committed. Any thread; must not block. Default: nothing.
  virtual void NewPacketCommitted(const ledger::PacketRecord& /*packet*/) {}

  // At start-up, before the first claim, with the ledger's open packets: drops what the scheme
  // keeps outside the ledger for them (Redis counters, share lists, claimer sets), so each
  // packet's first claim rebuilds it from the ledger instead of trusting what an earlier
  // process, a restored Redis or a restored ledger left behind. Blocking. A non-OK status
  // (Redis unreachable) is not fatal: stale state is still caught by the read-side checks.
  // Default: nothing kept, nothing to drop.
  virtual Status DropCachedState(const std::vector<int64_t>& /*packet_ids*/) {
    return Status::Ok();
  }

  // At shutdown, after the HTTP server stopped taking requests and before the ledger stops:
  // finishes the work the scheme holds itself (queued Redis calls, pool tasks), so every claim's
  // completion runs while the parts it calls into still exist; later claims go to the ledger
  // directly or fail with ShuttingDown. Blocking, bounded by the Redis deadline per batch.
  // Idempotent. Default: the scheme holds nothing of its own.
  virtual void Stop() {}
};

// Where the share draws of write jobs come from. The PostgreSQL engine runs jobs on several
// connections at once, so a scheme cannot keep one generator for its jobs: each job takes a
// generator of its own, seeded from one locked sequence (itself seeded by rng.seed), so a run
// with a fixed seed and one writer repeats exactly. Thread-safe.
class JobRngSource {
 public:
  explicit JobRngSource(uint64_t seed) : seeds_(seed) {}
  ShareRng Next() {
    std::lock_guard<std::mutex> lock(mu_);
    return ShareRng(seeds_());
  }

 private:
  std::mutex mu_;
  std::mt19937_64 seeds_;
};

// What every scheme may use. Pointers are not owned and must outlive the scheme.
struct ClaimSchemeDeps {
  ledger::Engine* ledger = nullptr;
  const Clock* clock = nullptr;
  uint64_t rng_seed = 1;
  base::RedisPool* redis = nullptr;  // mem_lock, presplit.
  ClaimOptions options;              // The claim.* section of the server's configuration.
};

}  // namespace rp::core
