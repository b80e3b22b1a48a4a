#include "server/query/read_pool.h"

#include <chrono>

namespace rp::query {

Result<std::unique_ptr<ReadPool>> ReadPool::Open(const std::string& path, int size, int wait_ms) {
  std::vector<std::unique_ptr<sql::Db>> dbs;
  sql::SqliteOptions options;
  options.read_only = true;
  for (int i = 0; i < size; ++i) {
    Result<std::unique_ptr<sql::Db>> db = sql::Db::Open(path, options);
    if (!db.ok()) return db.status();
    dbs.push_back(std::move(db.value()));
  }
  return std::unique_ptr<ReadPool>(new ReadPool(std::move(dbs), wait_ms));
}

ReadPool::ReadPool(std::vector<std::unique_ptr<sql::Db>> dbs, int wait_ms)
    : free_(std::move(dbs)), wait_ms_(wait_ms) {}

Status ReadPool::With(const std::function<Status(sql::Db&)>& fn) {
  std::unique_ptr<sql::Db> db;
  {
    std::unique_lock<std::mutex> lock(mu_);
    if (!cv_.wait_for(lock, std::chrono::milliseconds(wait_ms_),
                      [this] { return !free_.empty(); })) {
      return Unavailable("overloaded", "no read connection free; retry later");
    }
    db = std::move(free_.back());
    free_.pop_back();
  }
  Status s = db->Exec("BEGIN");
  if (s.ok()) {
    s = fn(*db);
    (void)db->Exec("COMMIT");
  }
  {
    std::lock_guard<std::mutex> lock(mu_);
    free_.push_back(std::move(db));
  }
  cv_.notify_one();
  return s;
}

}  // namespace rp::query
