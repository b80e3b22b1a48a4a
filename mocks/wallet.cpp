#include "mocks/wallet.h"

#include "common/downstream.h"
#include "mocks/payment.h"
#include "mocks/reward.h"

namespace rp::mock {
namespace {

using nlohmann::json;

constexpr const char* kSchema = R"sql(
CREATE TABLE IF NOT EXISTS transfers (
  transfer_no TEXT PRIMARY KEY, user_id INTEGER NOT NULL, amount_cents INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS refunds (
  refund_no TEXT PRIMARY KEY, pay_order_no TEXT NOT NULL, subsidy_id TEXT NOT NULL,
  amount_cents INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS balances (user_id INTEGER PRIMARY KEY, balance_cents INTEGER NOT NULL);
)sql";

json TransferJson(const std::string& no, int64_t user, int64_t amount) {
  return {{"transfer_no", no}, {"user_id", user}, {"amount_cents", amount}, {"status", "done"}};
}

json RefundJson(sql::Stmt& q) {  // refund_no, pay_order_no, subsidy_id, amount
  json j = {{"refund_no", q.Text(0)}, {"amount_cents", q.Int(3)}, {"status", "done"}};
  if (!q.Text(1).empty()) j["pay_order_no"] = q.Text(1);
  if (!q.Text(2).empty()) j["subsidy_id"] = q.Text(2);
  return j;
}

}  // namespace

Result<std::unique_ptr<WalletService>> WalletService::Open(const std::string& dir,
                                                           PaymentService* payment,
                                                           RewardService* reward) {
  Result<std::unique_ptr<Store>> store = Store::Open(dir + "/wallet.db", kSchema);
  if (!store.ok()) return store.status();
  return std::unique_ptr<WalletService>(
      new WalletService(std::move(store.value()), payment, reward));
}

Status WalletService::Credit(sql::Db& db, int64_t user_id, int64_t amount_cents) {
  sql::Stmt& up = db.Prepare(
      "INSERT INTO balances (user_id, balance_cents) VALUES (?, ?) "
      "ON CONFLICT (user_id) DO UPDATE SET balance_cents = balance_cents + excluded.balance_cents");
  up.Bind(1, user_id).Bind(2, amount_cents);
  up.Step();
  return up.status();
}

void WalletService::Transfer(const httplib::Request& req, httplib::Response& res) {
  json b;
  if (!ParseBody(req, res, &b)) return;
  Result<downstream::TransferRequest> t = downstream::ParseTransferRequest(b);
  if (!t.ok()) return ReplyStatus(res, t.status());
  const std::string no = t->transfer_no;
  const int64_t user = t->user_id, amount = t->amount_cents;
  int status = 201;
  Status s = store_->Tx([&](sql::Db& db) {
    sql::Stmt& q = db.Prepare("SELECT user_id, amount_cents FROM transfers WHERE transfer_no = ?");
    q.Bind(1, no);
    if (q.Step()) {
      const bool same = q.Int(0) == user && q.Int(1) == amount;
      q.Reset();
      status = 200;
      return same ? Status::Ok()
                  : Status(Error::kIdempotencyConflict,
                           no + " was used with another user or amount");
    }
    sql::Stmt& ins =
        db.Prepare("INSERT INTO transfers (transfer_no, user_id, amount_cents) VALUES (?, ?, ?)");
    ins.Bind(1, no).Bind(2, user).Bind(3, amount);
    ins.Step();
    if (!ins.status().ok()) return ins.status();
    return Credit(db, user, amount);
  });
  if (!s.ok()) return ReplyStatus(res, s);
  Reply(res, status, TransferJson(no, user, amount));
}

void WalletService::Refund(const httplib::Request& req, httplib::Response& res) {
  json b;
  if (!ParseBody(req, res, &b)) return;
  Result<downstream::RefundRequest> r = downstream::ParseRefundRequest(b);
  if (!r.ok()) return ReplyStatus(res, r.status());
  const bool by_pay = !r->pay_order_no.empty();
  const std::string no = r->refund_no;
  const std::string ref = by_pay ? r->pay_order_no : r->subsidy_id;
  const int64_t amount = r->amount_cents;
  Result<PaymentService::Order> order =
      by_pay ? payment_->Find(ref) : Result<PaymentService::Order>(PaymentService::Order{});
  if (!order.ok()) return ReplyStatus(res, order.status());
  int status = 201;
  json out;
  Status s = store_->Tx([&](sql::Db& db) {
    sql::Stmt& q = db.Prepare(
        "SELECT refund_no, pay_order_no, subsidy_id, amount_cents FROM refunds WHERE refund_no = "
        "?");
    q.Bind(1, no);
    if (q.Step()) {
      out = RefundJson(q);
      const bool same = q.Text(by_pay ? 1 : 2) == ref && q.Int(3) == amount;
      q.Reset();
      status = 200;
      return same ? Status::Ok()
                  : Status(Error::kIdempotencyConflict, no + " was used differently");
    }
    if (by_pay) {
      sql::Stmt& sum =
          db.Prepare("SELECT COALESCE(SUM(amount_cents), 0) FROM refunds WHERE pay_order_no = ?");
      sum.Bind(1, ref);
      sum.Step();
      const int64_t already = sum.Int(0);
      sum.Reset();
      if (order->status != "paid" || already + amount > order->amount_cents) {
        return Status(Error::kRefundExceedsPayment,
                      "refunds of " + ref + " would exceed what was paid");
      }
    } else {
      Status returned = reward_->ReturnToBudget(no, ref, amount);
      if (!returned.ok()) return returned;
    }
    sql::Stmt& ins = db.Prepare(
        "INSERT INTO refunds (refund_no, pay_order_no, subsidy_id, amount_cents) VALUES (?, ?, ?, "
        "?)");
    ins.Bind(1, no).Bind(2, by_pay ? ref : "").Bind(3, by_pay ? "" : ref).Bind(4, amount);
    ins.Step();
    if (!ins.status().ok()) return ins.status();
    out = {{"refund_no", no},
           {by_pay ? "pay_order_no" : "subsidy_id", ref},
           {"amount_cents", amount},
           {"status", "done"}};
    return by_pay ? Credit(db, order->payer_id, amount) : Status::Ok();
  });
  if (!s.ok()) return ReplyStatus(res, s);
  Reply(res, status, out);
}

}  // namespace rp::mock

namespace rp::mock {

void WalletService::Register(httplib::Server& server, const Guard& guard) {
  server.Post(downstream::kWalletTransfers,
              guard("transfers", [this](const auto& req, auto& res) { Transfer(req, res); }));
  server.Post(downstream::kWalletRefunds,
              guard("refunds", [this](const auto& req, auto& res) { Refund(req, res); }));
  RegisterQueries(server, guard);
}

// Reads: one handler runs a query and shapes rows; all of them are the "query" endpoint.
void WalletService::RegisterQueries(httplib::Server& server, const Guard& guard) {
  auto read = [this](const std::function<Status(sql::Db&, nlohmann::json*)>& fn) {
    return [this, fn](const httplib::Request&, httplib::Response& res) {
      nlohmann::json out;
      Status s = store_->Tx([&](sql::Db& db) { return fn(db, &out); });
      if (!s.ok()) return ReplyStatus(res, s);
      Reply(res, 200, out);
    };
  };
  server.Get(
      R"(/wallet/transfers/([A-Za-z0-9_-]{1,160}))",
      guard("query", [this](const httplib::Request& req, httplib::Response& res) {
        nlohmann::json out;
        Status s = store_->Tx([&](sql::Db& db) {
          sql::Stmt& q = db.Prepare(
              "SELECT transfer_no, user_id, amount_cents FROM transfers WHERE transfer_no = ?");
          q.Bind(1, std::string(req.matches[1]));
          if (!q.Step()) return Status(Error::kTransferNotFound, "no such transfer");
          out = TransferJson(q.Text(0), q.Int(1), q.Int(2));
          q.Reset();
          return Status::Ok();
        });
        if (!s.ok()) return ReplyStatus(res, s);
        Reply(res, 200, out);
      }));
  server.Get(R"(/wallet/balance/(\d{1,18}))",
             guard("query", [this](const httplib::Request& req, httplib::Response& res) {
               const int64_t user = std::stoll(req.matches[1]);
               int64_t balance = 0;
               Status s = store_->Tx([&](sql::Db& db) {
                 sql::Stmt& q = db.Prepare("SELECT balance_cents FROM balances WHERE user_id = ?");
                 q.Bind(1, user);
                 if (q.Step()) balance = q.Int(0);
                 q.Reset();
                 return Status::Ok();
               });
               if (!s.ok()) return ReplyStatus(res, s);
               Reply(res, 200, {{"user_id", user}, {"balance_cents", balance}});
             }));
  RegisterLists(server, guard);
  server.Get(
      downstream::kWalletExport, read([](sql::Db& db, nlohmann::json* out) {
        nlohmann::json transfers = nlohmann::json::array(), refunds = nlohmann::json::array();
        sql::Stmt& t = db.Prepare("SELECT transfer_no, user_id, amount_cents FROM transfers");
        while (t.Step()) transfers.push_back(TransferJson(t.Text(0), t.Int(1), t.Int(2)));
        if (!t.status().ok()) return t.status();
        sql::Stmt& r =
            db.Prepare("SELECT refund_no, pay_order_no, subsidy_id, amount_cents FROM refunds");
        while (r.Step()) refunds.push_back(RefundJson(r));
        *out = {{"transfers", transfers}, {"refunds", refunds}};
        return r.status();
      }));
}

// The lists tests read: a user's transfers, a pay order's refunds.
void WalletService::RegisterLists(httplib::Server& server, const Guard& guard) {
  server.Get("/wallet/transfers",
             guard("query", [this](const httplib::Request& req, httplib::Response& res) {
               const std::string user = req.get_param_value("user");
               nlohmann::json list = nlohmann::json::array();
               Status s = store_->Tx([&](sql::Db& db) {
                 sql::Stmt& q = db.Prepare(
                     "SELECT transfer_no, user_id, amount_cents FROM transfers "
                     "WHERE ? = '' OR user_id = CAST(? AS INTEGER) ORDER BY transfer_no");
                 q.Bind(1, user).Bind(2, user);
                 while (q.Step()) list.push_back(TransferJson(q.Text(0), q.Int(1), q.Int(2)));
                 return q.status();
               });
               if (!s.ok()) return ReplyStatus(res, s);
               Reply(res, 200, {{"transfers", list}});
             }));
  server.Get("/wallet/refunds",
             guard("query", [this](const httplib::Request& req, httplib::Response& res) {
               const std::string pay = req.get_param_value("pay_order_no");
               nlohmann::json list = nlohmann::json::array();
               Status s = store_->Tx([&](sql::Db& db) {
                 sql::Stmt& q = db.Prepare(
                     "SELECT refund_no, pay_order_no, subsidy_id, amount_cents FROM refunds "
                     "WHERE ? = '' OR pay_order_no = ? ORDER BY refund_no");
                 q.Bind(1, pay).Bind(2, pay);
                 while (q.Step()) list.push_back(RefundJson(q));
                 return q.status();
               });
               if (!s.ok()) return ReplyStatus(res, s);
               Reply(res, 200, {{"refunds", list}});
             }));
}

}  // namespace rp::mock
