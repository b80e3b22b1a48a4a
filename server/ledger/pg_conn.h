// The PostgreSQL engine's connection: one libpq connection, the ledger's statements prepared on
// it (placeholders numbered, hooks filled in: real row locks, SKIP LOCKED leases, ctid), cached
// by statement id, savepoints for nested jobs, and PostgreSQL's errors mapped onto ours —
// serialization failures, deadlocks and lock timeouts as storage_busy (the engine retries
// them), a broken connection as unavailable (the engine reconnects). One thread at a time.
#pragma once

#include <libpq-fe.h>

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "server/ledger/sql.h"

namespace rp::ledger {

struct PgConnectionOptions {
  std::string url;  // postgresql://user@host:port/db
  int64_t connect_timeout_ms = 5000;
  int64_t statement_timeout_ms = 10000;
  int64_t lock_timeout_ms = 5000;
  bool read_only = false;  // Read transactions: REPEATABLE READ, READ ONLY (one snapshot).
};

// Figures a connection keeps; the engine sums them.
struct PgStatementFigures {
  int64_t row_lock_waits = 0;    // Statements that take row locks ({for_update}).
  int64_t row_lock_wait_ns = 0;  // Their time: the wait for the lock, mostly.
};

class PgConnection final : public Connection {
 public:
  static Result<std::unique_ptr<PgConnection>> Open(const PgConnectionOptions& options);
  ~PgConnection() override;

  Statement& Prepare(const Sql& sql) override;
  Status Nested(const std::function<Status()>& fn) override;
  Status ExecScript(std::string_view sql) override;
  std::string_view engine() const override { return "postgres"; }

  // Transaction control for the engine.
  Status Begin();
  Status Commit();
  void Rollback();
  // False once the server went away; Reconnect() dials again (prepared statements are lost).
  bool healthy() const;
  Status Reconnect();

  PgStatementFigures& figures() { return figures_; }
  PGconn* raw() { return conn_; }

 private:
  explicit PgConnection(PgConnectionOptions options) : options_(std::move(options)) {}
  Status Connect();
  Status Simple(const char* sql);

  PgConnectionOptions options_;
  PGconn* conn_ = nullptr;
  std::vector<std::unique_ptr<Statement>> cache_;  // By Sql::id().
  int depth_ = 0;
  PgStatementFigures figures_;
};

// A statement's text for PostgreSQL: ? -> $1, $2, ... and the hooks filled in.
std::string PgText(std::string_view portable, int* params);

// PostgreSQL's error (SQLSTATE and message) as ours.
Status PgError(const PGresult* result, PGconn* conn, std::string_view what);

}  // namespace rp::ledger
