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

#include "common/ledger_engines.h"
#include "server/ledger/sql.h"

namespace rp::ledger {

struct PgConnectionOptions {
  std::string url;  // postgresql://user@host:port/db
  // The client's own deadline for one wait on the server: a connect, or the answer to one round
  // trip. A server that is frozen, partitioned away or crashed without closing the socket would
  // otherwise hold the calling thread until TCP gives up (minutes). Past it the connection is
  // closed — that is the cancel: the server, told to check its client every
  // client_check_interval_ms, stops the statement and rolls the transaction back.
  int64_t call_deadline_ms = 3000;
  int64_t statement_timeout_ms = 2500;  // The server's own, set below the client's deadline.
  int64_t lock_timeout_ms = 2000;
  int64_t client_check_interval_ms = 1000;
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
  std::string_view engine() const override { return kPostgresEngine; }

  // Transaction control for the engine.
  Status Begin();
  Status Commit();
  void Rollback();
  // False once the server went away; Reconnect() dials again (prepared statements are lost).
  bool healthy() const;
  Status Reconnect();
  // Every wait on the server until the next call ends by deadline_ns (MonotonicNs), or sooner
  // by call_deadline_ms; 0: by call_deadline_ms alone. The engine sets a job's own deadline here.
  void SetDeadline(int64_t deadline_ns) { deadline_ns_ = deadline_ns; }
  // Answers read since the connection was opened: a read that failed before its first answer
  // saw nothing, so it may be run again on a fresh connection.
  int64_t answers_read() const { return answers_read_; }
  // Whether the last break was a deadline (the server did not answer in time) rather than a
  // lost connection: a timed-out read is not worth running again at once.
  bool timed_out() const { return timed_out_; }

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
  // Polls libpq's connection state machine until it is open or the wait deadline passes.
  Status ConnectWithin(int64_t deadline_ns);
  // Flushes what is queued to the server and waits until a result can be read without blocking.
  // False (and the connection marked broken) when the deadline passes or the socket fails.
  bool AwaitResult();
  int64_t WaitDeadlineNs() const;
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
  bool broken_ = false;     // Out of step with the server: reconnect before the next use.
  Status held_;             // An error LimitOwed() read early, owed to the next Round().
  std::string broken_why_;  // Why broken_ was set: the message of the requests it fails.
  int64_t deadline_ns_ = 0;
  int64_t answers_read_ = 0;
  bool timed_out_ = false;
  PgStatementFigures figures_;
};

// A statement of conn (pg_statement.cpp): executed on its first Step(), prepared on the server
// with its first execution; sent_ahead: not awaited, its answer read with the next awaited one.
std::unique_ptr<Statement> MakePgStatement(PgConnection* conn, std::string name, std::string text,
                                           int params, bool takes_row_locks, bool sent_ahead);

// A statement's text for PostgreSQL: ? -> $1, $2, ... and the hooks filled in.
std::string PgText(std::string_view portable, int* params);

// PostgreSQL's error (SQLSTATE and message) as ours.
Status PgError(const PGresult* result, PGconn* conn, std::string_view what);

}  // namespace rp::ledger
