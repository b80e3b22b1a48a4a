// InflightClaims: claims an accelerator (Redis) let through that the ledger has not answered
// yet, per packet. A "sold out" from Redis is only a divergence if the ledger's remaining shares
// exceed what is in flight: the ledger snapshot lags the reservations by exactly those claims.
// A claimer that reserved the last share must never be invisible to a "sold out" check — counted
// neither in flight nor in the ledger — or the check would call a healthy counter stale. The
// Redis schemes guarantee it by order: reservations go through one RedisPipeline, whose
// completions run in the order Redis ran them, and each registers its reservation (Add) in its
// completion; the check for a "sold out" starts after that reply's completion, so after every
// reservation Redis ran before it was registered. Thread-safe; bounded by the claims in flight
// (entries are erased at zero). VerifySoldOut below is the check both Redis schemes make.
#pragma once

#include <cstdint>
#include <mutex>
#include <unordered_map>

#include <optional>

#include "server/core/claim_tx.h"
#include "server/ledger/engine.h"
#include "server/ledger/packets.h"

namespace rp::core {

class InflightClaims {
 public:
  void Add(int64_t packet_id) {
    std::lock_guard<std::mutex> lock(mu_);
    ++counts_[packet_id];
  }
  void Done(int64_t packet_id) {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = counts_.find(packet_id);
    if (it != counts_.end() && --it->second <= 0) counts_.erase(it);
  }
  int64_t Of(int64_t packet_id) const {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = counts_.find(packet_id);
    return it == counts_.end() ? 0 : it->second;
  }

 private:
  mutable std::mutex mu_;
  std::unordered_map<int64_t, int64_t> counts_;
};

// What an accelerator's "sold out" turns out to be once checked against the ledger.
struct SoldOutCheck {
  enum Kind { kRepeat, kSoldOut, kDiverged } kind = kSoldOut;
  ClaimOutcome repeat;                       // kRepeat: the user's earlier claim.
  int64_t remaining_count = 0;               // kDiverged: what the ledger says is left.
  std::optional<ledger::PacketState> state;  // The packet's state in the snapshot, if read.

  // The refusal a kSoldOut answers with: expired (410) for a packet past its time, else sold out.
  Status Refusal() const {
    if (state == ledger::PacketState::kExpired || state == ledger::PacketState::kRefunded) {
      return {Error::kExpired, "packet expired"};
    }
    return {Error::kSoldOut, "every share of this packet has been claimed"};
  }
};

// The in-flight count is read first and the snapshot second: a claim that commits in between is
// then either counted in flight or visible in the snapshot, never missing from both.
inline SoldOutCheck VerifySoldOut(ledger::Engine& ledger, const InflightClaims& inflight,
                                  int64_t packet_id, int64_t user_id) {
  const int64_t in_flight = inflight.Of(packet_id);
  Result<ledger::packets::WithClaim> v = Status(Error::kInternal, "not read");
  Status read = ledger.Read([&](ledger::ReadTx& tx) {
    v = ledger::packets::LoadWithClaim(tx, packet_id, user_id);
    return Status::Ok();
  });
  SoldOutCheck out;
  if (!read.ok() || !v.ok()) return out;
  out.state = v->state;
  if (v->claim) {
    out.kind = SoldOutCheck::kRepeat;
    out.repeat = {*v->claim, true, std::nullopt};
  } else if (v->state == ledger::PacketState::kActive && v->remaining_count - in_flight > 0) {
    out.kind = SoldOutCheck::kDiverged;
    out.remaining_count = v->remaining_count;
  }
  return out;
}

}  // namespace rp::core
