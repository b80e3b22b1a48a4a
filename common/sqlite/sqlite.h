// Thin RAII wrapper over the SQLite C API (shared by rp-server and rp-mock): one connection (Db)
// and its prepared statements (Stmt).
//
// Contract: a Db is used by one thread at a time (SQLITE_OPEN_NOMUTEX); the owner serialises
// access. This wrapper runs no SQL of its own: each owner (the ledger's SQLite engine, the mocks'
// stores) sets the pragmas it relies on explicitly rather than trusting compile-time defaults.
// Errors come back as Status; nothing here throws.
#pragma once

#include <sqlite3.h>

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>

#include "common/status.h"

namespace rp::sql {

struct OpenMode {
  bool read_only = false;
  // How long a statement waits for a lock another connection holds before failing (busy).
  int busy_timeout_ms = 5000;
};

class Stmt {
 public:
  Stmt(sqlite3* db, sqlite3_stmt* stmt) : db_(db), stmt_(stmt) {}
  ~Stmt() { sqlite3_finalize(stmt_); }
  Stmt(const Stmt&) = delete;
  Stmt& operator=(const Stmt&) = delete;

  // Binders use 1-based indexes. They return *this for chaining.
  Stmt& Bind(int index, int64_t value);
  Stmt& Bind(int index, std::string_view value);
  Stmt& BindNull(int index);

  // Steps once. Returns true when a row is available, false when done; on error returns false
  // and sets status(). Reset() must be called before the statement is reused.
  bool Step();
  const Status& status() const { return status_; }
  void Reset();

  int64_t Int(int col) const { return sqlite3_column_int64(stmt_, col); }
  std::string Text(int col) const;
  bool IsNull(int col) const { return sqlite3_column_type(stmt_, col) == SQLITE_NULL; }
  // Rows changed by the connection's last INSERT, UPDATE or DELETE.
  int64_t Changes() const { return sqlite3_changes64(db_); }

 private:
  sqlite3* db_;
  sqlite3_stmt* stmt_;
  Status status_;
};

class Db {
 public:
  // Opens (creating unless read_only) the database at path with the busy timeout set.
  static Result<std::unique_ptr<Db>> Open(const std::string& path, const OpenMode& mode);
  ~Db();
  Db(const Db&) = delete;
  Db& operator=(const Db&) = delete;

  // Runs one or more statements without results.
  Status Exec(std::string_view sql);
  // Returns a cached prepared statement, reset and with bindings cleared. The reference stays
  // valid for the life of the Db; do not hold it across another Prepare() of the same SQL in a
  // nested way. Aborts on SQL that does not compile (a programming error).
  Stmt& Prepare(const std::string& sql);
  // Compiles sql into a statement the caller owns (not cached). An error (a syntax error, or a
  // table the file does not have) comes back as a Status.
  Result<std::unique_ptr<Stmt>> Compile(std::string_view sql);
  int64_t LastInsertRowId() const { return sqlite3_last_insert_rowid(db_); }
  int Changes() const { return sqlite3_changes(db_); }
  sqlite3* raw() { return db_; }

 private:
  explicit Db(sqlite3* db) : db_(db) {}
  sqlite3* db_;
  std::unordered_map<std::string, std::unique_ptr<Stmt>> cache_;
};

// Convenience: a Status for the connection's last error.
Status SqliteError(sqlite3* db, std::string_view what);

}  // namespace rp::sql
