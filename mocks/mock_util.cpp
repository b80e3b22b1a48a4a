#include "mocks/mock_util.h"

namespace rp::mock {

Result<std::unique_ptr<Store>> Store::Open(const std::string& path, const std::string& schema) {
  Result<std::unique_ptr<sql::Db>> db = sql::Db::Open(path, sql::OpenMode{});
  if (!db.ok()) return db.status();
  // WAL, synchronous=NORMAL: every commit survives the mock's process being killed (the only
  // crash rp-sim applies to it), not a power loss. FULL cost an fsync per payment order,
  // callback and transfer, taken from the same disk the ledger under test syncs on, and capped
  // what the mock could take in a spike.
  Status s = (*db)->Exec(
      "PRAGMA foreign_keys=ON; PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; "
      "PRAGMA temp_store=MEMORY;");
  if (!s.ok()) return s;
  s = (*db)->Exec(schema);
  if (!s.ok()) return s;
  return std::unique_ptr<Store>(new Store(std::move(db.value())));
}

Status Store::Tx(const std::function<Status(sql::Db&)>& fn) {
  std::lock_guard<std::mutex> lock(mu_);
  Status s = db_->Exec("BEGIN IMMEDIATE");
  if (!s.ok()) return s;
  s = fn(*db_);
  if (!s.ok()) {
    (void)db_->Exec("ROLLBACK");  // Best effort: the failure may have ended it; s is the news.
    return s;
  }
  return db_->Exec("COMMIT");
}

void ReplyStatus(httplib::Response& res, const Status& s) {
  ReplyError(res, HttpStatusOf(s.code()), std::string(s.error()), s.message());
}

bool ParseBody(const httplib::Request& req, httplib::Response& res, nlohmann::json* out) {
  *out = nlohmann::json::parse(req.body, nullptr, false);
  if (out->is_discarded() || !out->is_object()) {
    ReplyError(res, 400, "invalid_json", "the body must be a JSON object");
    return false;
  }
  return true;
}

}  // namespace rp::mock
