// RewardService: the B2C "red-packet rain". A round has a budget; each user grabs at most one
// subsidy per round, drawn uniformly in [min_cents, max_cents] and capped by what the round has
// left, so issued - returned never exceeds the budget (checked and decremented in one SQLite
// transaction). A subsidy comes as a signed token (common/subsidy_token.h) and is used through
// TCC steps (try = freeze for a tx, confirm = used, cancel = unfreeze), each idempotent per
// (subsidy, tx). Thread-safe.
#pragma once

#include <httplib.h>

#include <memory>
#include <string>

#include "mocks/mock_util.h"
#include "mocks/switches.h"

namespace rp::mock {

struct RoundSpec {
  std::string round;
  int64_t budget_cents = 0, min_cents = 0, max_cents = 0, expires_in_s = 0;
};
// The longest a round may last (expires_in_s): 10 years.
inline constexpr int64_t kRoundSecondsMax = int64_t{10} * 366 * 86400;
Result<RoundSpec> ParseRound(const nlohmann::json& j);

class RewardService {
 public:
  static Result<std::unique_ptr<RewardService>> Open(const std::string& dir, std::string secret,
                                                     SwitchBoard* switches, int64_t subsidy_ttl_s);
  // Idempotent on the round id with the same spec; Conflict otherwise.
  Status CreateRound(const RoundSpec& spec);
  // A wallet refund of a B2C remainder returns money to the subsidy's round, once per refund_no.
  Status ReturnToBudget(const std::string& refund_no, const std::string& subsidy_id,
                        int64_t amount_cents);
  void Register(httplib::Server& server, const Guard& guard);

 private:
  void RegisterRounds(httplib::Server& server);
  RewardService(std::unique_ptr<Store> store, std::string secret, SwitchBoard* switches,
                int64_t subsidy_ttl_s)
      : store_(std::move(store)),
        secret_(std::move(secret)),
        switches_(switches),
        subsidy_ttl_s_(subsidy_ttl_s) {}
  void Grab(const std::string& round, const httplib::Request& req, httplib::Response& res);
  void Tcc(const std::string& id, const std::string& step, const httplib::Request& req,
           httplib::Response& res);

  std::unique_ptr<Store> store_;
  const std::string secret_;
  SwitchBoard* switches_;
  const int64_t subsidy_ttl_s_;
};

}  // namespace rp::mock
