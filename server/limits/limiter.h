// Limiter: the gateway's rate limits (docs/stability.md). Holds the rules loaded from config or
// PUT /admin/limits and the state of each (token buckets per route, user or packet; in-flight
// counts for concurrency rules) and decides, per request, to admit it now, admit it after a
// wait (queueing rules), or refuse it with a Retry-After and a message fit to show a user.
// Shadow rules (or shadow mode for all) only count what they would refuse.
//
// Bounds: at most kRulesMax rules; per rule at most keys_max per-user or per-packet buckets —
// when full, idle buckets (equal to new ones) among the least recently used are forgotten first,
// then the least recently used, counted as an eviction (that key starts again with a new
// bucket). A new key costs O(1) however full the table is.
//
// Thread-safe. Admit() with may_block true may call Redis for global rules (blocking up to the
// Redis deadline): call it that way only off the HTTP I/O threads (Blocks() says whether a
// route has any global rule). With may_block false, global rules use their local fallback.
// Load() swaps the whole table at once; requests in flight finish under the rules they met.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "common/clock.h"
#include "common/metrics/metrics.h"
#include "common/status.h"
#include "server/limits/global_buckets.h"
#include "server/limits/rules.h"

namespace rp::limits {

struct Request {
  int route = 0;          // An index into the limiter's route names.
  int64_t user_id = 0;    // 0: none (per-user rules do not apply).
  int64_t packet_id = 0;  // 0: none (per-packet rules do not apply).
};

// Releases a concurrency rule's slots when destroyed: hold it until the response is sent.
class Permit;

struct Decision {
  enum class Kind : uint8_t { kAdmit, kDelay, kRefuse };
  Kind kind = Kind::kAdmit;
  int64_t delay_ms = 0;            // kDelay: wait this long, then handle the request.
  int64_t retry_after_s = 0;       // kRefuse: the Retry-After header (>= 1).
  std::string rule;                // kRefuse: the rule that refused.
  std::string message;             // kRefuse: for the user.
  std::shared_ptr<Permit> permit;  // Concurrency slots held; null when none.
};

class Limiter {
 public:
  // routes: the names rules may use, indexed as Request::route. clock must outlive this;
  // global may be nullptr (no Redis: global rules act as local ones).
  Limiter(std::vector<std::string> routes, const Clock* clock, GlobalBuckets* global,
          size_t keys_max = 100'000);
  ~Limiter();

  // Replaces the rules (validated by ParseLimits). Counters of rules kept by name carry on.
  void Load(LimitsConfig config);
  LimitsConfig config() const;
  // Whether global rules have their shared store (else they would act as local ones).
  bool has_global_store() const { return global_ != nullptr; }
  const std::vector<std::string>& routes() const { return routes_; }

  // Whether any rule applies to route (false: Admit() would admit at once; skip it).
  bool Limits(int route) const;
  bool Blocks(int route) const;
  Decision Admit(const Request& request, bool may_block);

  // rp_limit_admitted_total{rule}, rp_limit_refused_total{rule},
  // rp_limit_shadow_refused_total{rule}, rp_limit_queued_total{rule} (admitted after a wait),
  // rp_limit_global_fallbacks_total{rule}, rp_limit_keys_evicted_total{rule}, rp_limit_keys{rule}.
  void RegisterMetrics(metrics::Hub& hub);

  struct RuleState;
  struct Table;

 private:
  std::shared_ptr<const Table> table() const;

  const std::vector<std::string> routes_;
  const Clock* const clock_;
  GlobalBuckets* const global_;
  const size_t keys_max_;
  std::atomic<std::shared_ptr<const Table>> table_;
};

}  // namespace rp::limits
