// The SQLite engine's connection: the ledger's statements compiled for SQLite (hooks filled in:
// no row locks — the single writer serialises every write), cached by statement id, savepoints
// for nested jobs, and the pragmas the ledger relies on, set explicitly. One thread at a time.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/ledger_engines.h"
#include "common/sqlite/sqlite.h"
#include "server/ledger/sql.h"

namespace rp::ledger {

struct SqliteConnectionOptions {
  bool read_only = false;
  std::string synchronous = "FULL";  // FULL | NORMAL (writer only).
  int busy_timeout_ms = 5000;
  int cache_size_kib = 16384;
  int wal_autocheckpoint_pages = 4000;
};

class SqliteConnection final : public Connection {
 public:
  static Result<std::unique_ptr<SqliteConnection>> Open(const std::string& path,
                                                        const SqliteConnectionOptions& options);
  ~SqliteConnection() override;

  Statement& Prepare(const Sql& sql) override;
  Status Nested(const std::function<Status()>& fn) override;
  Status ExecScript(std::string_view sql) override;
  std::string_view engine() const override { return kSqliteEngine; }

  // Transaction control for the engine's own use.
  Status Begin(bool write);
  Status Commit();
  void Rollback();

 private:
  explicit SqliteConnection(std::unique_ptr<sql::Db> db) : db_(std::move(db)) {}
  // The three statements of one nesting depth, compiled once.
  struct Savepoint {
    std::unique_ptr<sql::Stmt> open, rollback, release;
  };
  Savepoint& SavepointAt(int depth);

  std::unique_ptr<sql::Db> db_;
  std::vector<std::unique_ptr<Statement>> cache_;  // By Sql::id().
  std::vector<std::unique_ptr<Savepoint>> savepoints_;
  std::unique_ptr<sql::Stmt> begin_read_, begin_write_, commit_, rollback_;
  int depth_ = 0;
};

// A statement's text with SQLite's values for the hooks (server/ledger/sql.h).
std::string SqliteText(std::string_view portable);

}  // namespace rp::ledger
