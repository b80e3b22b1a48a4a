// SqliteReadPool: a fixed set of read-only SQLite connections for the query side. In WAL mode
// readers see the last committed snapshot and never wait behind the writer (read-write
// separation). Thread-safe: at most `size` reads run at once, and a caller waits at most wait_ms
// for a free connection before getting Overloaded.
#pragma once

#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "server/ledger/sqlite_conn.h"

namespace rp::ledger {

class SqliteReadPool {
 public:
  // Opens `size` read-only connections to an existing database.
  static Result<std::unique_ptr<SqliteReadPool>> Open(const std::string& path, int size,
                                                      int wait_ms);
  // Runs fn with a connection inside a read transaction (one consistent snapshot).
  Status With(const std::function<Status(ReadTx&)>& fn);

 private:
  SqliteReadPool(std::vector<std::unique_ptr<SqliteConnection>> conns, int wait_ms);
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<std::unique_ptr<SqliteConnection>> free_;
  const int wait_ms_;
};

}  // namespace rp::ledger
