// ClaimService: a claim as the API sees it — the packet's receiving range checked first (a
// social-graph lookup on the social pool, degraded per core/audience.h when the service
// fails), then the configured claim scheme; every outcome counted by result in /metrics.
// Thread-safe. Answers through `done` exactly once, on an unspecified thread.
#pragma once

#include <prometheus/counter.h>

#include <array>
#include <cstdint>
#include <string>

#include "common/blocking_pool.h"
#include "common/enum_names.h"
#include "common/metrics/metrics.h"
#include "server/core/audience.h"
#include "server/core/claim_scheme.h"
#include "server/core/receiving_ranges.h"
#include "server/ledger/engine.h"

namespace rp::core {

// How a claim ended, for rp_claims_total{result}.
enum class ClaimResult : uint8_t {
  kWon,
  kRepeat,
  kSoldOut,
  kExpired,
  kNotClaimable,
  kPacketNotFound,
  kNotInAudience,
  kError,
};
inline constexpr EnumNames<ClaimResult, 8> kClaimResults{{"won", "repeat", "sold_out", "expired",
                                                          "not_claimable", "packet_not_found",
                                                          "not_in_audience", "error"}};
ClaimResult ResultOf(const Result<ClaimOutcome>& r);

class ClaimService {
 public:
  // Pointers are not owned and must outlive the service. audience and social_pool may be null
  // (receiving ranges not enforced); degrader may be null (the audience feature never
  // degraded by SLO or switch; a failed lookup still lets the claim through). The claim
  // counters live in hub's registry.
  // read_pool (may be null: the caller's thread) runs the first read of a packet's receiving
  // range, so a slow or frozen ledger never holds the caller's (an HTTP I/O) thread; later
  // claims on the packet find the range remembered (core/receiving_ranges.h).
  ClaimService(ClaimScheme* scheme, ledger::Engine* ledger, AudienceChecker* audience,
               BlockingPool* social_pool, metrics::Hub* hub, base::Degrader* degrader = nullptr,
               BlockingPool* read_pool = nullptr);
  void Claim(int64_t packet_id, int64_t user_id, ClaimDone done);
  ClaimScheme& scheme() { return *scheme_; }

 private:
  // degraded: the receiving-range check was skipped (said in the outcome).
  void ClaimNow(int64_t packet_id, int64_t user_id, ClaimDone done, bool degraded = false);
  // queued_ns: when the check was queued on the social pool (MonotonicNs).
  void CheckedClaim(int64_t packet_id, int64_t user_id, int64_t sender, ledger::Audience range,
                    ClaimDone done, int64_t queued_ns);
  // The check skipped because the social pool refused it (full, or busy past its bound at once
  // or after waiting waited_ms in its queue): the claim goes ahead, degraded.
  void Unchecked(int64_t packet_id, int64_t user_id, ClaimDone done, int64_t waited_ms);
  // With an audience checker: reads the packet's receiving range (blocking: on the read pool),
  // remembers it, then claims as ClaimInRange does.
  void AudienceClaim(int64_t packet_id, int64_t user_id, ClaimDone done);
  // Claims with the check the packet's range asks for: none for a public packet or its sender,
  // else on the social pool (or unchecked, degraded). Never blocks.
  void ClaimInRange(int64_t packet_id, int64_t user_id, ReceivingRange range, ClaimDone done);
  // Packets whose range was read once: most claims then skip the read and the read pool's hop.
  static constexpr size_t kRangesMax = 1 << 16;
  ReceivingRanges ranges_{kRangesMax};
  BlockingPool* read_pool_ = nullptr;
  ClaimScheme* scheme_;
  base::Degrader* degrader_;
  ledger::Engine* ledger_;
  AudienceChecker* audience_;
  BlockingPool* social_pool_;
  std::array<prometheus::Counter*, 8> counts_{};  // By ClaimResult; label lookups done once.
};

}  // namespace rp::core
