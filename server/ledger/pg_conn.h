// The PostgreSQL engine's connection: one libpq connection, the ledger's statements prepared on
// it (placeholders numbered, hooks filled in: real row locks, SKIP LOCKED leases, ctid), cached
// by statement id, savepoints for nested jobs, and PostgreSQL's errors mapped onto ours —
// serialization failures, deadlocks and lock timeouts as storage_busy (the engine retries
// them), a broken connection as unavailable (the engine reconnects). One thread at a time.
//
// Round trips are what a transaction costs here (each one a wake-up of the server's process and
// of ours), so the connection runs in libpq's pipeline mode and sends what needs no answer yet
// together with the next thing that does: BEGIN travels with the transaction's first statement,
// a statement's first PREPARE with its first execution, SAVEPOINT/RELEASE with whatever comes
// next, and a transaction that ran no statement sends nothing at all. A finished read
// transaction's ROLLBACK is sent at once but its answer is read at the connection's next use.
// COMMIT is always waited for: no client hears of a write before it is durable. An error of a
// statement sent ahead surfaces at the next statement that waits, and fails it (the whole job
// then rolls back) — nothing is committed that the job did not see succeed.
#pragma once

#include <libpq-fe.h>

#include <cstdint>
#include <deque>
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

  // For this connection's statements. Sends the pending BEGIN if the transaction has not
  // started on the server yet.
  void StartIfPending();
  // Sends a query whose result is wanted now or not at all (prepared statement by name, or a
  // parameterless text). *ok is set to whether its answer arrived without error.
  void SendPrepare(const std::string& name, const std::string& text, int params, bool* ok);
  void SendPrepared(const std::string& name, const std::vector<const char*>& params);
  void SendText(const char* sql);
  // Ends the pipeline here and reads every answer due; *last (if given) receives the last query's
  // result (the caller PQclear()s it). The first error among this transaction's answers.
  Status Round(PGresult** last);
  // After a statement sent ahead: once kOwedMax answers are owed, reads them (a pipeline the
  // server cannot answer into would block both sides: it stops reading while its answers wait
  // for us). An error found there is kept and returned by the next Round.
  void LimitOwed();
  static constexpr size_t kOwedMax = 512;

 private:
  // One answer the server owes us, in order.
  struct Pending {
    std::string label;  // For messages: the statement's name or text.
    bool sync = false;  // The end of a pipeline rather than a query's result.
    bool* ok = nullptr;
    bool stale = false;  // Of a transaction that already ended: errors are not ours.
  };
  enum class TxState { kIdle, kPending, kOpen };

  explicit PgConnection(PgConnectionOptions options) : options_(std::move(options)) {}
  Status Connect();
  void Queue(std::string label, bool* ok = nullptr);
  void Sync(bool stale);
  // Reads the answers owed; keeps the last query's result in *last. Connection loss ends it.
  Status Drain(PGresult** last);
  void Broken(const std::string& why);

  PgConnectionOptions options_;
  PGconn* conn_ = nullptr;
  std::vector<std::unique_ptr<Statement>> cache_;  // By Sql::id().
  int depth_ = 0;
  TxState tx_ = TxState::kIdle;
  std::deque<Pending> pending_;
  bool broken_ = false;  // Out of step with the server: reconnect before the next use.
  Status held_;          // An error LimitOwed() read early, owed to the next Round().
  PgStatementFigures figures_;
};

// A statement's text for PostgreSQL: ? -> $1, $2, ... and the hooks filled in.
std::string PgText(std::string_view portable, int* params);

// PostgreSQL's error (SQLSTATE and message) as ours.
Status PgError(const PGresult* result, PGconn* conn, std::string_view what);

}  // namespace rp::ledger
