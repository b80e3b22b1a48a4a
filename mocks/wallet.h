// WalletService: users' balances. Transfers (claim money to a claimer) and refunds (a packet's
// remainder back to its payer, or a B2C remainder back to its rain round) are idempotent on
// their numbers: a replay returns the first result, the same number with another amount or
// target is 409 idempotency_conflict, and a balance is credited exactly once. Thread-safe.
#pragma once

#include <httplib.h>

#include <memory>

#include "mocks/mock_util.h"

namespace rp::mock {

class PaymentService;
class RewardService;

class WalletService {
 public:
  // payment and reward are not owned and must outlive the wallet.
  static Result<std::unique_ptr<WalletService>> Open(const std::string& dir,
                                                     PaymentService* payment,
                                                     RewardService* reward);
  void Register(httplib::Server& server, const Guard& guard);

 private:
  void RegisterQueries(httplib::Server& server, const Guard& guard);
  void RegisterLists(httplib::Server& server, const Guard& guard);
  WalletService(std::unique_ptr<Store> store, PaymentService* payment, RewardService* reward)
      : store_(std::move(store)), payment_(payment), reward_(reward) {}
  void Transfer(const httplib::Request& req, httplib::Response& res);
  void Refund(const httplib::Request& req, httplib::Response& res);
  Status Credit(sql::Db& db, int64_t user_id, int64_t amount_cents);

  std::unique_ptr<Store> store_;
  PaymentService* payment_;
  RewardService* reward_;
};

}  // namespace rp::mock
