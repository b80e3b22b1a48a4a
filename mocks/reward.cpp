#include "mocks/reward.h"

#include "common/downstream.h"

#include <ctime>

#include "common/subsidy_token.h"

namespace rp::mock {
namespace {

using nlohmann::json;

constexpr const char* kSchema = R"sql(
CREATE TABLE IF NOT EXISTS rounds (
  round TEXT PRIMARY KEY, budget_cents INTEGER NOT NULL, min_cents INTEGER NOT NULL,
  max_cents INTEGER NOT NULL, expires_at_s INTEGER NOT NULL, expires_in_s INTEGER NOT NULL,
  issued_cents INTEGER NOT NULL DEFAULT 0, returned_cents INTEGER NOT NULL DEFAULT 0,
  grabs INTEGER NOT NULL DEFAULT 0,
  CHECK (issued_cents - returned_cents <= budget_cents));
CREATE TABLE IF NOT EXISTS subsidies (
  subsidy_id TEXT PRIMARY KEY, round TEXT NOT NULL, user_id INTEGER NOT NULL,
  amount_cents INTEGER NOT NULL, expires_at_s INTEGER NOT NULL, token TEXT NOT NULL,
  state TEXT NOT NULL, tx_id TEXT NOT NULL DEFAULT '', UNIQUE (round, user_id));
CREATE TABLE IF NOT EXISTS budget_returns (
  refund_no TEXT PRIMARY KEY, subsidy_id TEXT NOT NULL, amount_cents INTEGER NOT NULL);
)sql";

json SubsidyJson(sql::Stmt& q) {  // subsidy_id, round, user_id, amount, expires, token, state
  return {{"subsidy_id", q.Text(0)},  {"round", q.Text(1)},       {"user_id", q.Int(2)},
          {"amount_cents", q.Int(3)}, {"expires_at_s", q.Int(4)}, {"token", q.Text(5)},
          {"state", q.Text(6)}};
}

const char* kSubsidyColumns =
    "SELECT subsidy_id, round, user_id, amount_cents, expires_at_s, token, state, tx_id "
    "FROM subsidies ";

}  // namespace

Result<RoundSpec> ParseRound(const json& j) {
  RoundSpec r;
  // Amounts are whole cents: a float (1e21) converted to int64 would be undefined behaviour.
  for (const char* key : {"budget_cents", "min_cents", "max_cents", "expires_in_s"}) {
    if (j.is_object() && j.contains(key) && !j[key].is_number_integer()) {
      return Status(Error::kInvalidRound, std::string(key) + " must be a whole number");
    }
  }
  try {
    r = {j.at("round").get<std::string>(), j.at("budget_cents").get<int64_t>(),
         j.at("min_cents").get<int64_t>(), j.at("max_cents").get<int64_t>(),
         j.at("expires_in_s").get<int64_t>()};
  } catch (const json::exception&) {
    return Status(Error::kInvalidRound,
                  "round needs round, budget_cents, min_cents, "
                  "max_cents, expires_in_s");
  }
  if (r.round.empty() || r.round.size() > 64 || r.min_cents < 1 || r.min_cents > r.max_cents ||
      r.max_cents > r.budget_cents) {
    return Status(Error::kInvalidRound, "need 0 < min_cents <= max_cents <= budget_cents");
  }
  // The round ends at now + expires_in_s: bounded, so that sum is a date and never overflows.
  if (r.expires_in_s < 1 || r.expires_in_s > kRoundSecondsMax) {
    return Status(Error::kInvalidRound,
                  "expires_in_s must be 1.." + std::to_string(kRoundSecondsMax) + " (10 years)");
  }
  return r;
}

Result<std::unique_ptr<RewardService>> RewardService::Open(const std::string& dir,
                                                           std::string secret,
                                                           SwitchBoard* switches,
                                                           int64_t subsidy_ttl_s) {
  Result<std::unique_ptr<Store>> store = Store::Open(dir + "/reward.db", kSchema);
  if (!store.ok()) return store.status();
  return std::unique_ptr<RewardService>(
      new RewardService(std::move(store.value()), std::move(secret), switches, subsidy_ttl_s));
}

Status RewardService::CreateRound(const RoundSpec& r) {
  return store_->Tx([&](sql::Db& db) {
    sql::Stmt& q = db.Prepare(
        "SELECT budget_cents, min_cents, max_cents, expires_in_s FROM rounds WHERE round = ?");
    q.Bind(1, r.round);
    if (q.Step()) {
      bool same = q.Int(0) == r.budget_cents && q.Int(1) == r.min_cents &&
                  q.Int(2) == r.max_cents && q.Int(3) == r.expires_in_s;
      q.Reset();
      return same ? Status::Ok()
                  : Status(Error::kIdempotencyConflict,
                           "round " + r.round + " exists with another spec");
    }
    sql::Stmt& ins = db.Prepare(
        "INSERT INTO rounds (round, budget_cents, min_cents, max_cents, expires_at_s, "
        "expires_in_s) VALUES (?, ?, ?, ?, ?, ?)");
    ins.Bind(1, r.round).Bind(2, r.budget_cents).Bind(3, r.min_cents).Bind(4, r.max_cents);
    ins.Bind(5, std::time(nullptr) + r.expires_in_s).Bind(6, r.expires_in_s);
    ins.Step();
    return ins.status();
  });
}

void RewardService::Grab(const std::string& round, const httplib::Request& req,
                         httplib::Response& res) {
  json body;
  if (!ParseBody(req, res, &body)) return;
  Result<downstream::GrabRequest> grab = downstream::ParseGrabRequest(body);
  if (!grab.ok()) return ReplyStatus(res, grab.status());
  const int64_t user = grab->user_id;
  const int64_t now_s = std::time(nullptr);
  json out;
  int status = 201;
  Status s = store_->Tx([&](sql::Db& db) {
    sql::Stmt& mine = db.Prepare(std::string(kSubsidyColumns) + "WHERE round = ? AND user_id = ?");
    mine.Bind(1, round).Bind(2, user);
    if (mine.Step()) {  // At most one per user per round: the same subsidy again.
      out = SubsidyJson(mine);
      mine.Reset();
      status = 200;
      return Status::Ok();
    }
    sql::Stmt& r = db.Prepare(
        "SELECT budget_cents - issued_cents + returned_cents, min_cents, max_cents, expires_at_s, "
        "grabs FROM rounds WHERE round = ?");
    r.Bind(1, round);
    if (!r.Step()) return Status(Error::kRoundNotFound, "no rain round " + round);
    const int64_t left = r.Int(0), min = r.Int(1), max = r.Int(2), expires = r.Int(3), n = r.Int(4);
    r.Reset();
    if (expires <= now_s) return Status(Error::kRoundExpired, "rain round " + round + " is over");
    if (left < min) return Status(Error::kBudgetExhausted, "rain round " + round + " is spent");
    const int64_t amount = switches_->UniformInt(min, std::min(max, left));
    subsidy::TokenClaims c{"SUB-" + round + "-" + std::to_string(n + 1), user, amount, round,
                           now_s + subsidy_ttl_s_};
    const std::string token = subsidy::MintToken(secret_, c);
    sql::Stmt& ins = db.Prepare(
        "INSERT INTO subsidies (subsidy_id, round, user_id, amount_cents, expires_at_s, token, "
        "state) VALUES (?, ?, ?, ?, ?, ?, 'issued')");
    ins.Bind(1, c.subsidy_id).Bind(2, round).Bind(3, user).Bind(4, amount).Bind(5, c.expires_at_s);
    ins.Bind(6, token);
    ins.Step();
    if (!ins.status().ok()) return ins.status();
    sql::Stmt& up = db.Prepare(
        "UPDATE rounds SET issued_cents = issued_cents + ?, grabs = grabs + 1 WHERE round = ?");
    up.Bind(1, amount).Bind(2, round);
    up.Step();
    out = {{"subsidy_id", c.subsidy_id},
           {"round", round},
           {"user_id", user},
           {"amount_cents", amount},
           {"expires_at_s", c.expires_at_s},
           {"token", token},
           {"state", "issued"}};
    return up.status();
  });
  if (!s.ok()) return ReplyStatus(res, s);
  Reply(res, status, out);
}

void RewardService::Tcc(const std::string& id, const std::string& step, const httplib::Request& req,
                        httplib::Response& res) {
  json body;
  if (!ParseBody(req, res, &body)) return;
  Result<downstream::TccRequest> tcc = downstream::ParseTccRequest(body);
  if (!tcc.ok()) return ReplyStatus(res, tcc.status());
  const std::string tx = tcc->tx_id;
  json out;
  Status s = store_->Tx([&](sql::Db& db) {
    sql::Stmt& q = db.Prepare(std::string(kSubsidyColumns) + "WHERE subsidy_id = ?");
    q.Bind(1, id);
    if (!q.Step()) return Status(Error::kSubsidyNotFound, "no subsidy " + id);
    out = SubsidyJson(q);
    const std::string state = q.Text(6), holder = q.Text(7);
    const int64_t expires = q.Int(4);
    q.Reset();
    std::string to = state, to_tx = holder;
    if (step == "try") {
      if ((state == "frozen" || state == "used") && holder == tx) return Status::Ok();
      if (state != "issued") return Status(Error::kSubsidyUnavailable, id + " is " + state);
      if (expires <= std::time(nullptr)) return Status(Error::kSubsidyExpired, id + " has expired");
      to = "frozen", to_tx = tx;
    } else if (step == "confirm") {
      if (state == "used" && holder == tx) return Status::Ok();
      if (state != "frozen" || holder != tx)
        return Status(Error::kNotFrozen, id + " is not frozen by " + tx);
      to = "used";
    } else {                                                       // cancel
      if (state != "frozen" || holder != tx) return Status::Ok();  // Nothing of ours to undo.
      to = "issued", to_tx = "";
    }
    sql::Stmt& up = db.Prepare("UPDATE subsidies SET state = ?, tx_id = ? WHERE subsidy_id = ?");
    up.Bind(1, to).Bind(2, to_tx).Bind(3, id);
    up.Step();
    out["state"] = to;
    return up.status();
  });
  if (!s.ok()) return ReplyStatus(res, s);
  Reply(res, 200, out);
}

Status RewardService::ReturnToBudget(const std::string& refund_no, const std::string& subsidy_id,
                                     int64_t amount_cents) {
  return store_->Tx([&](sql::Db& db) {
    sql::Stmt& seen = db.Prepare("SELECT 1 FROM budget_returns WHERE refund_no = ?");
    seen.Bind(1, refund_no);
    if (seen.Step()) {
      seen.Reset();
      return Status::Ok();
    }
    sql::Stmt& q = db.Prepare("SELECT round, amount_cents FROM subsidies WHERE subsidy_id = ?");
    q.Bind(1, subsidy_id);
    if (!q.Step()) return Status(Error::kSubsidyNotFound, "no subsidy " + subsidy_id);
    const std::string round = q.Text(0);
    const int64_t issued = q.Int(1);
    q.Reset();
    if (amount_cents > issued) return Status(Error::kRefundExceedsSubsidy, subsidy_id);
    sql::Stmt& ins = db.Prepare(
        "INSERT INTO budget_returns (refund_no, subsidy_id, amount_cents) VALUES (?, ?, ?)");
    ins.Bind(1, refund_no).Bind(2, subsidy_id).Bind(3, amount_cents);
    ins.Step();
    if (!ins.status().ok()) return ins.status();
    sql::Stmt& up =
        db.Prepare("UPDATE rounds SET returned_cents = returned_cents + ? WHERE round = ?");
    up.Bind(1, amount_cents).Bind(2, round);
    up.Step();
    return up.status();
  });
}

}  // namespace rp::mock

namespace rp::mock {

void RewardService::Register(httplib::Server& server, const Guard& guard) {
  server.Post(downstream::kRainGrabPattern,
              guard("grab", [this](const httplib::Request& req, httplib::Response& res) {
                Grab(req.matches[1], req, res);
              }));
  server.Get(downstream::kUserSubsidiesPattern,
             guard("list", [this](const httplib::Request& req, httplib::Response& res) {
               nlohmann::json list = nlohmann::json::array();
               Status s = store_->Tx([&](sql::Db& db) {
                 sql::Stmt& q = db.Prepare(std::string(kSubsidyColumns) + "WHERE user_id = ?");
                 q.Bind(1, std::stoll(req.matches[1]));
                 while (q.Step()) list.push_back(SubsidyJson(q));
                 return q.status();
               });
               if (!s.ok()) return ReplyStatus(res, s);
               Reply(res, 200, {{"subsidies", list}});
             }));
  server.Post(downstream::kTccPattern,
              guard("tcc", [this](const httplib::Request& req, httplib::Response& res) {
                Tcc(req.matches[1], req.matches[2], req, res);
              }));
  server.Get(R"(/reward/subsidies/([A-Za-z0-9_-]{1,160}))",
             [this](const httplib::Request& req, httplib::Response& res) {
               nlohmann::json out;
               Status s = store_->Tx([&](sql::Db& db) {
                 sql::Stmt& q = db.Prepare(std::string(kSubsidyColumns) + "WHERE subsidy_id = ?");
                 q.Bind(1, std::string(req.matches[1]));
                 if (!q.Step()) return Status(Error::kSubsidyNotFound, "no such subsidy");
                 out = SubsidyJson(q);
                 q.Reset();
                 return Status::Ok();
               });
               if (!s.ok()) return ReplyStatus(res, s);
               Reply(res, 200, out);
             });
  RegisterRounds(server);
}

// The rounds of the rain (admin: tests and rp-sim create them) and the export reconciliation
// reads.
void RewardService::RegisterRounds(httplib::Server& server) {
  server.Post("/admin/rounds", [this](const httplib::Request& req, httplib::Response& res) {
    nlohmann::json body;
    if (!ParseBody(req, res, &body)) return;
    Result<RoundSpec> spec = ParseRound(body);
    if (!spec.ok()) return ReplyStatus(res, spec.status());
    Status s = CreateRound(*spec);
    if (!s.ok()) return ReplyStatus(res, s);
    Reply(res, 201, body);
  });
  auto rounds = [this](const std::string& only, nlohmann::json* out) {
    return store_->Tx([&](sql::Db& db) {
      sql::Stmt& q = db.Prepare(
          "SELECT round, budget_cents, issued_cents, returned_cents, grabs, min_cents, max_cents "
          "FROM rounds WHERE ? = '' OR round = ?");
      q.Bind(1, only).Bind(2, only);
      while (q.Step()) {
        out->push_back({{"round", q.Text(0)},
                        {"budget_cents", q.Int(1)},
                        {"issued_cents", q.Int(2)},
                        {"returned_cents", q.Int(3)},
                        {"remaining_cents", q.Int(1) - q.Int(2) + q.Int(3)},
                        {"grabs", q.Int(4)},
                        {"min_cents", q.Int(5)},
                        {"max_cents", q.Int(6)}});
      }
      return q.status();
    });
  };
  server.Get(R"(/admin/rounds/([A-Za-z0-9_-]{1,64}))",
             [rounds](const httplib::Request& req, httplib::Response& res) {
               nlohmann::json list = nlohmann::json::array();
               Status s = rounds(req.matches[1], &list);
               if (!s.ok()) return ReplyStatus(res, s);
               if (list.empty()) return ReplyError(res, 404, "round_not_found", "no such round");
               Reply(res, 200, list[0]);
             });
  server.Get(downstream::kRewardExport,
             [this, rounds](const httplib::Request&, httplib::Response& res) {
               nlohmann::json list = nlohmann::json::array(), subsidies = nlohmann::json::array();
               Status s = rounds("", &list);
               if (s.ok()) {
                 s = store_->Tx([&](sql::Db& db) {
                   sql::Stmt& q = db.Prepare(kSubsidyColumns);
                   while (q.Step()) subsidies.push_back(SubsidyJson(q));
                   return q.status();
                 });
               }
               if (!s.ok()) return ReplyStatus(res, s);
               Reply(res, 200, {{"rounds", list}, {"subsidies", subsidies}});
             });
}

}  // namespace rp::mock
