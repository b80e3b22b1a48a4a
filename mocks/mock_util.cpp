#include "mocks/mock_util.h"

namespace rp::mock {

Result<std::unique_ptr<Store>> Store::Open(const std::string& path, const std::string& schema) {
  sql::SqliteOptions options;  // WAL, synchronous=FULL: the mock's records are durable too.
  Result<std::unique_ptr<sql::Db>> db = sql::Db::Open(path, options);
  if (!db.ok()) return db.status();
  Status s = (*db)->Exec(schema);
  if (!s.ok()) return s;
  return std::unique_ptr<Store>(new Store(std::move(db.value())));
}

Status Store::Tx(const std::function<Status(sql::Db&)>& fn) {
  std::lock_guard<std::mutex> lock(mu_);
  Status s = db_->Exec("BEGIN IMMEDIATE");
  if (!s.ok()) return s;
  s = fn(*db_);
  if (!s.ok()) {
    (void)db_->Exec("ROLLBACK");
    return s;
  }
  return db_->Exec("COMMIT");
}

void ReplyStatus(httplib::Response& res, const Status& s) {
  int status = 500;
  switch (s.code()) {
    case Code::kInvalidArgument:
      status = 400;
      break;
    case Code::kNotFound:
      status = 404;
      break;
    case Code::kConflict:
      status = 409;
      break;
    case Code::kGone:
      status = 410;
      break;
    case Code::kUnavailable:
      status = 503;
      break;
    default:
      break;
  }
  ReplyError(res, status, s.error(), s.message());
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
