// AudienceChecker: enforces a packet's receiving range ("fans", "friends", "public") with a
// social-graph lookup at the social service (GET /social/relation?from=CLAIMER&to=SENDER).
//
// Degradation (seed: "non-core failures downgrade features while keeping core flows
// functional"): the receiving range is a non-core feature, claiming is core. When the lookup
// fails (service down, slow past the deadline, 5xx), the claim is ALLOWED and the degradation is
// counted (rp_social_degraded_total) and logged. No money is at risk: the packet's shares and
// amounts are unchanged; at worst a non-fan wins a share of a fans-only packet.
//
// Relations are cached (bounded; cleared when full). Thread-safe; Allows() blocks on the
// network, so call it from a BlockingPool thread, never an HTTP I/O thread.
#pragma once

#include <atomic>
#include <cstdint>
#include <mutex>
#include <string>
#include <unordered_map>

#include "server/base/breakers.h"
#include "server/ledger/records.h"

namespace rp::core {

class AudienceChecker {
 public:
  // breakers may be nullptr (none); not owned, must outlive this.
  AudienceChecker(std::string social_url, int64_t deadline_ms, size_t cache_max,
                  base::Breakers* breakers = nullptr);

  enum class Verdict : uint8_t { kAllowed, kRefused, kUnchecked };
  // Whether claimer may claim a packet of sender with this audience; kUnchecked when the lookup
  // failed (the claim goes ahead: the degraded path above).
  Verdict Check(int64_t sender_id, int64_t claimer_id, ledger::Audience audience);
  int64_t degraded() const { return degraded_.load(); }

 private:
  struct Relation {
    bool follows = false;  // claimer follows sender (a fan).
    bool friends = false;  // mutual.
  };
  bool Lookup(int64_t sender_id, int64_t claimer_id, Relation* out);

  const std::string social_url_;
  const int64_t deadline_ms_;
  base::Breakers* const breakers_;
  const size_t cache_max_;
  std::mutex mu_;
  std::unordered_map<std::string, Relation> cache_;
  std::atomic<int64_t> degraded_{0};
};

}  // namespace rp::core
