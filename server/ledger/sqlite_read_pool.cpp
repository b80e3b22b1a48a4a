#include "server/ledger/sqlite_read_pool.h"

#include <chrono>

namespace rp::ledger {

Result<std::unique_ptr<SqliteReadPool>> SqliteReadPool::Open(const std::string& path, int size,
                                                             int wait_ms) {
  std::vector<std::unique_ptr<SqliteConnection>> conns;
  SqliteConnectionOptions options;
  options.read_only = true;
  for (int i = 0; i < size; ++i) {
    Result<std::unique_ptr<SqliteConnection>> c = SqliteConnection::Open(path, options);
    if (!c.ok()) return c.status();
    conns.push_back(std::move(c.value()));
  }
  return std::unique_ptr<SqliteReadPool>(new SqliteReadPool(std::move(conns), wait_ms));
}

SqliteReadPool::SqliteReadPool(std::vector<std::unique_ptr<SqliteConnection>> conns, int wait_ms)
    : free_(std::move(conns)), wait_ms_(wait_ms) {}

Status SqliteReadPool::With(const std::function<Status(ReadTx&)>& fn) {
  std::unique_ptr<SqliteConnection> conn;
  {
    std::unique_lock<std::mutex> lock(mu_);
    if (!cv_.wait_for(lock, std::chrono::milliseconds(wait_ms_),
                      [this] { return !free_.empty(); })) {
      return Overloaded("no read connection free; retry later");
    }
    conn = std::move(free_.back());
    free_.pop_back();
  }
  Status s = conn->Begin(/*write=*/false);
  if (s.ok()) {
    ReadTx tx(*conn);
    s = fn(tx);
    (void)conn->Commit();  // A read transaction: nothing to lose if ending it fails.
  }
  {
    std::lock_guard<std::mutex> lock(mu_);
    free_.push_back(std::move(conn));
  }
  cv_.notify_one();
  return s;
}

}  // namespace rp::ledger
