// RewardTcc: the reward service's side of using a subsidy, as TCC steps (the seed's Base
// Service lists TCC for exactly this). Each step is idempotent at the service per
// (subsidy_id, tx_id), so any step may be retried after a timeout or a crash.
// Thread-safe (one HTTP client per calling thread); calls block: use a BlockingPool thread.
#pragma once

#include <cstdint>
#include <string>

#include "common/status.h"
#include "server/base/breakers.h"

namespace rp::base {

class RewardTcc {
 public:
  // breakers may be nullptr (none); not owned, must outlive this.
  RewardTcc(std::string reward_url, int64_t deadline_ms, Breakers* breakers = nullptr)
      : url_(std::move(reward_url)), deadline_ms_(deadline_ms), breakers_(breakers) {}

  // OK: frozen for tx. Conflict("subsidy_refused"): the service will never let this tx use it
  // (used elsewhere, expired, unknown). Unavailable: unknown outcome, try again.
  Status Try(const std::string& subsidy_id, const std::string& tx_id);
  // OK: used by tx (also when it already was). Unavailable: try again.
  Status Confirm(const std::string& subsidy_id, const std::string& tx_id);
  // OK: not frozen by tx any more. Unavailable: try again.
  Status Cancel(const std::string& subsidy_id, const std::string& tx_id);

 private:
  Status Step(const std::string& step, const std::string& subsidy_id, const std::string& tx_id);
  const std::string url_;
  const int64_t deadline_ms_;
  Breakers* const breakers_;
};

}  // namespace rp::base
