#include "server/core/audience.h"

#include <spdlog/spdlog.h>

#include <memory>

#include "common/downstream.h"
#include "server/base/service_client.h"

namespace rp::core {

AudienceChecker::AudienceChecker(std::string social_url, int64_t deadline_ms, size_t cache_max,
                                 base::Breakers* breakers)
    : social_url_(std::move(social_url)),
      deadline_ms_(deadline_ms),
      breakers_(breakers),
      cache_max_(cache_max) {}

bool AudienceChecker::Lookup(int64_t sender_id, int64_t claimer_id, Relation* out) {
  const std::string key = std::to_string(claimer_id) + ">" + std::to_string(sender_id);
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = cache_.find(key);
    if (it != cache_.end()) {
      *out = it->second;
      return true;
    }
  }
  // One client per pool thread: ServiceClient is not thread-safe.
  Result<base::ServiceReply> r =
      base::ThreadLocalClient(social_url_, deadline_ms_, "social", breakers_)
          .Get(downstream::RelationPath(claimer_id, sender_id));
  if (!r.ok() || r->status != 200) return false;
  Result<downstream::Relation> rel = downstream::ParseRelation(r->body);
  if (!rel.ok()) return false;
  out->follows = rel->follows;
  out->friends = rel->friends;
  std::lock_guard<std::mutex> lock(mu_);
  if (cache_.size() >= cache_max_) cache_.clear();  // Bounded; relations are cheap to re-fetch.
  cache_[key] = *out;
  return true;
}

AudienceChecker::Verdict AudienceChecker::Check(int64_t sender_id, int64_t claimer_id,
                                                ledger::Audience audience) {
  if (audience == ledger::Audience::kPublic || sender_id == claimer_id) return Verdict::kAllowed;
  Relation rel;
  if (!Lookup(sender_id, claimer_id, &rel)) {
    int64_t n = ++degraded_;
    if ((n & (n - 1)) == 0) {  // Log the 1st, 2nd, 4th, ... to stay readable under an outage.
      spdlog::warn("social lookup failed {} time(s); audience not enforced (degraded)", n);
    }
    return Verdict::kUnchecked;
  }
  const bool in = audience == ledger::Audience::kFans ? rel.follows : rel.friends;
  return in ? Verdict::kAllowed : Verdict::kRefused;
}

}  // namespace rp::core
