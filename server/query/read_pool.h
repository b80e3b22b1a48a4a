// ReadPool: a fixed set of read-only SQLite connections for the query side. In WAL mode readers
// see the last committed snapshot and never wait behind the writer (read-write separation).
// Thread-safe. Leases are returned automatically; at most `size` queries run at once and a
// caller waits at most wait_ms for a free connection before getting Unavailable.
#pragma once

#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "common/sqlite.h"
#include "common/status.h"

namespace rp::query {

class ReadPool {
 public:
  // Opens `size` read-only connections to an existing database.
  static Result<std::unique_ptr<ReadPool>> Open(const std::string& path, int size, int wait_ms);

  // Runs fn with a connection inside a read transaction (one consistent snapshot).
  Status With(const std::function<Status(sql::Db&)>& fn);

 private:
  ReadPool(std::vector<std::unique_ptr<sql::Db>> dbs, int wait_ms);
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<std::unique_ptr<sql::Db>> free_;
  const int wait_ms_;
};

}  // namespace rp::query
