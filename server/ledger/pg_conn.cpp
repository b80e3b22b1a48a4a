#include "server/ledger/pg_conn.h"

#include <poll.h>
#include <spdlog/spdlog.h>
#include <sys/socket.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <optional>

#include "common/check.h"
#include "common/clock.h"
#include "common/redact.h"

namespace rp::ledger {

Result<std::unique_ptr<PgConnection>> PgConnection::Open(const PgConnectionOptions& options) {
  std::unique_ptr<PgConnection> c(new PgConnection(options));
  Status s = c->Connect();
  if (!s.ok()) return s;
  return c;
}

PgConnection::~PgConnection() {
  cache_.clear();
  if (conn_ != nullptr) PQfinish(conn_);
}

Status PgConnection::Connect() {
  if (conn_ != nullptr) PQfinish(conn_);
  conn_ = nullptr;
  cache_.clear();
  pending_.clear();
  depth_ = 0;
  tx_ = TxState::kIdle;
  broken_ = false;
  broken_why_.clear();
  timed_out_ = false;
  held_ = Status::Ok();
  Status s = ConnectWithin(WaitDeadlineNs());
  if (!s.ok()) return s;
  // Every setting the ledger relies on, explicitly, per connection. client_connection_check_-
  // interval lets the server notice a client that closed the connection (our deadline) while a
  // statement runs, and stop it.
  const std::string settings =
      "SET synchronous_commit = on; SET statement_timeout = " +
      std::to_string(options_.statement_timeout_ms) +
      "; SET lock_timeout = " + std::to_string(options_.lock_timeout_ms) +
      "; SET client_connection_check_interval = " +
      std::to_string(options_.client_check_interval_ms) +
      "; SET idle_in_transaction_session_timeout = 60000; SET client_min_messages = warning;";
  s = ExecScript(settings);
  if (!s.ok()) return s;
  // Non-blocking: a send never waits on a full socket; every wait is in AwaitResult, bounded.
  if (PQsetnonblocking(conn_, 1) != 0 || PQenterPipelineMode(conn_) != 1) {
    return {Error::kStorageBusy,
            "libpq refused pipeline mode: " + std::string(PQerrorMessage(conn_))};
  }
  return Status::Ok();
}

// libpq's own connect_timeout counts whole seconds per address and PQconnectdb blocks; the
// non-blocking handshake polled here ends at our deadline. Keepalives and tcp_user_timeout make
// an idle pooled connection to a vanished host fail within seconds instead of TCP's minutes.
// Our values come first: whatever the URL itself says wins.
Status PgConnection::ConnectWithin(int64_t deadline_ns) {
  const std::string user_timeout = std::to_string(options_.call_deadline_ms);
  const char* keys[] = {
      "application_name", "keepalives",       "keepalives_idle", "keepalives_interval",
      "keepalives_count", "tcp_user_timeout", "dbname",          nullptr};
  const char* values[] = {"rp-server",          "1",    "5", "2", "3", user_timeout.c_str(),
                          options_.url.c_str(), nullptr};
  conn_ = PQconnectStartParams(keys, values, /*expand_dbname=*/1);
  if (conn_ == nullptr) return {Error::kStorageBusy, "cannot connect to the ledger: out of memory"};
  PostgresPollingStatusType st = PGRES_POLLING_WRITING;  // Where libpq's loop starts.
  while (PQstatus(conn_) != CONNECTION_BAD && st != PGRES_POLLING_FAILED) {
    if (st == PGRES_POLLING_OK) return Status::Ok();
    const int64_t left_ms = (deadline_ns - MonotonicNs()) / 1'000'000;
    if (left_ms <= 0) {
      timed_out_ = true;
      return {Error::kStorageBusy, "cannot connect to the ledger: no answer within " +
                                       std::to_string(options_.call_deadline_ms) + " ms"};
    }
    pollfd pfd{PQsocket(conn_), static_cast<short>(st == PGRES_POLLING_READING ? POLLIN : POLLOUT),
               0};
    const int n = poll(&pfd, 1, static_cast<int>(std::min<int64_t>(left_ms, 1000)));
    if (n < 0 && errno != EINTR) break;
    if (n > 0) st = PQconnectPoll(conn_);
  }
  return {Error::kStorageBusy,
          // libpq may quote the URL, or a fragment of it, in its message: never its password.
          "cannot connect to the ledger: " +
              RedactConnectionError(PQerrorMessage(conn_), options_.url)};
}

int64_t PgConnection::WaitDeadlineNs() const {
  if (deadline_ns_ > 0) return deadline_ns_;
  return MonotonicNs() + options_.call_deadline_ms * 1'000'000;
}

// The only place this connection waits for the server.
bool PgConnection::AwaitResult() {
  const int64_t deadline_ns = WaitDeadlineNs();
  for (;;) {
    const int flushed = PQflush(conn_);  // 0: all sent; 1: more to send; -1: failed.
    if (flushed < 0) {
      Broken("cannot send to the ledger: " + std::string(PQerrorMessage(conn_)));
      return false;
    }
    if (!PQisBusy(conn_)) return true;
    const int64_t left_ms = (deadline_ns - MonotonicNs()) / 1'000'000;
    if (left_ms <= 0) {
      timed_out_ = true;
      Broken("no answer from the ledger within its deadline");
      // The cancel: end the session now, not at the next reconnect. A server that was only
      // frozen would otherwise keep this transaction — and its row locks — open once it thaws,
      // waiting for us until idle_in_transaction_session_timeout.
      shutdown(PQsocket(conn_), SHUT_RDWR);
      return false;
    }
    const short events = static_cast<short>(POLLIN | (flushed == 1 ? POLLOUT : 0));
    pollfd pfd{PQsocket(conn_), events, 0};
    const int n = poll(&pfd, 1, static_cast<int>(std::min<int64_t>(left_ms, 1000)));
    if (n < 0 && errno != EINTR) {
      Broken("poll on the ledger connection failed");
      return false;
    }
    if (n > 0 && (pfd.revents & (POLLIN | POLLERR | POLLHUP)) != 0 && PQconsumeInput(conn_) != 1) {
      Broken("ledger connection lost: " + std::string(PQerrorMessage(conn_)));
      return false;
    }
  }
}

bool PgConnection::healthy() const {
  return conn_ != nullptr && !broken_ && PQstatus(conn_) == CONNECTION_OK;
}

Status PgConnection::Reconnect() {
  return Connect();
}

Statement& PgConnection::Prepare(const Sql& sql) {
  const auto id = static_cast<size_t>(sql.id());
  if (id >= cache_.size()) cache_.resize(id + 1);
  std::unique_ptr<Statement>& slot = cache_[id];
  if (slot) {
    slot->Reset();
    return *slot;
  }
  int params = 0;
  std::string text = PgText(sql.text(), &params);
  const bool locks = sql.text().find("{for_update}") != std::string_view::npos;
  slot = MakePgStatement(this, "s" + std::to_string(id), std::move(text), params, locks,
                         sql.sent_ahead());
  return *slot;
}

void PgConnection::Queue(std::string label, bool* ok) {
  pending_.push_back({std::move(label), false, ok, false});
}

void PgConnection::Sync(bool stale) {
  if (PQpipelineSync(conn_) != 1) Broken("pipeline sync failed");
  pending_.push_back({"", true, nullptr, stale});
  if (stale) {
    for (Pending& p : pending_) p.stale = true;
  }
}

void PgConnection::Broken(const std::string& why) {
  if (!broken_) {
    spdlog::warn("ledger connection out of step, will reconnect: {}", why);
    broken_why_ = why;
  }
  broken_ = true;
}

void PgConnection::StartIfPending() {
  if (tx_ != TxState::kPending) return;
  tx_ = TxState::kOpen;
  SendText(options_.read_only ? "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY" : "BEGIN");
}

void PgConnection::SendPrepare(const std::string& name, const std::string& text, int params,
                               bool* ok) {
  if (broken_) return;
  if (PQsendPrepare(conn_, name.c_str(), text.c_str(), params, nullptr) != 1) {
    Broken(PQerrorMessage(conn_));
    return;
  }
  Queue("prepare " + name + ": " + text, ok);
}

void PgConnection::SendPrepared(const std::string& name, const std::vector<const char*>& params) {
  if (broken_) return;
  if (PQsendQueryPrepared(conn_, name.c_str(), static_cast<int>(params.size()), params.data(),
                          nullptr, nullptr, 0) != 1) {
    Broken(PQerrorMessage(conn_));
    return;
  }
  Queue(name);
}

void PgConnection::SendText(const char* sql) {
  if (broken_) return;
  if (PQsendQueryParams(conn_, sql, 0, nullptr, nullptr, nullptr, nullptr, 0) != 1) {
    Broken(PQerrorMessage(conn_));
    return;
  }
  Queue(sql);
}

Status PgConnection::Round(PGresult** last) {
  if (broken_) return {Error::kStorageBusy, "ledger connection lost: " + broken_why_};
  Sync(false);
  Status s = Drain(last);
  if (held_.ok()) return s;
  if (last != nullptr && *last != nullptr) {
    PQclear(*last);
    *last = nullptr;
  }
  Status held = std::move(held_);
  held_ = Status::Ok();
  return held;
}

void PgConnection::LimitOwed() {
  if (pending_.size() < kOwedMax) return;
  Status s = Round(nullptr);
  if (!s.ok() && held_.ok()) held_ = std::move(s);
}

// Reads answers in the order they are owed. After an error the server skips the rest of that
// pipeline (PIPELINE_ABORTED) up to its sync; the first error is the round's. Answers of a
// transaction that already ended (a read's ROLLBACK) are read and dropped.
Status PgConnection::Drain(PGresult** last) {
  Status first = Status::Ok();
  if (last) *last = nullptr;
  while (!pending_.empty() && !broken_) {
    Pending p = std::move(pending_.front());
    pending_.pop_front();
    if (!AwaitResult()) break;
    PGresult* r = PQgetResult(conn_);
    if (r == nullptr) {
      Broken("no answer for " + p.label + ": " + PQerrorMessage(conn_));
      break;
    }
    const ExecStatusType st = PQresultStatus(r);
    if (p.sync) {
      if (st != PGRES_PIPELINE_SYNC) Broken("expected the end of a pipeline");
      PQclear(r);
      continue;
    }
    const bool ok = st == PGRES_TUPLES_OK || st == PGRES_COMMAND_OK;
    answers_read_ += ok && !p.stale;
    if (p.ok) *p.ok = ok;
    if (!ok && !p.stale && first.ok()) {
      first = st == PGRES_PIPELINE_ABORTED ? Status(Error::kInternal, p.label + ": skipped")
                                           : PgError(r, conn_, p.label);
    }
    const bool wanted = last && pending_.size() == 1 && !p.stale;  // Only the sync follows.
    if (wanted) {
      *last = r;
    } else {
      PQclear(r);
    }
    if (!AwaitResult()) break;
    if (PQgetResult(conn_) != nullptr) Broken("more than one result for " + p.label);
  }
  if (broken_) {
    pending_.clear();
    if (last && *last) {
      PQclear(*last);
      *last = nullptr;
    }
    return {Error::kStorageBusy, "ledger connection lost: " + broken_why_};
  }
  return first;
}

Status PgConnection::Nested(const std::function<Status()>& fn) {
  const std::string name = "sp" + std::to_string(depth_);
  StartIfPending();
  SendText(("SAVEPOINT " + name).c_str());
  ++depth_;
  Status s;
  try {
    s = fn();
  } catch (const std::exception& e) {
    s = Internal(std::string("write job threw: ") + e.what());
  }
  --depth_;
  if (s.ok()) {
    // Awaited: a statement of fn sent ahead may have failed, and its error belongs to this
    // savepoint — not to whatever runs next, whose rollback-to would undo this one's work.
    SendText(("RELEASE SAVEPOINT " + name).c_str());
    s = Round(nullptr);
    if (s.ok()) return s;
  }
  // Sent ahead with what comes next. A failed rollback-to leaves the transaction aborted: the
  // next statement, or the commit, then fails the whole job.
  SendText(("ROLLBACK TO SAVEPOINT " + name).c_str());
  SendText(("RELEASE SAVEPOINT " + name).c_str());
  return s;
}

// Outside pipeline mode (scripts are several statements in one string: the simple protocol).
Status PgConnection::ExecScript(std::string_view sql) {
  const bool piped = PQpipelineStatus(conn_) != PQ_PIPELINE_OFF;
  if (piped) {
    if (!pending_.empty()) {
      if (pending_.back().sync == false) Sync(true);
      (void)Drain(nullptr);  // Earlier statements' results; their owners saw their own errors.
    }
    if (broken_ || PQexitPipelineMode(conn_) != 1) {
      return {Error::kStorageBusy, "ledger connection lost: " + std::string(PQerrorMessage(conn_))};
    }
  }
  int params = 0;
  const std::string text = PgText(sql, &params);
  // PQexec would wait without a deadline: send, then read each statement's result in turn.
  if (PQsendQuery(conn_, text.c_str()) != 1) {
    Broken(PQerrorMessage(conn_));
    return {Error::kStorageBusy, "ledger connection lost: " + broken_why_};
  }
  Status s = Status::Ok();
  for (;;) {
    if (!AwaitResult()) return {Error::kStorageBusy, "ledger connection lost: " + broken_why_};
    PGresult* r = PQgetResult(conn_);
    if (r == nullptr) break;
    const ExecStatusType st = PQresultStatus(r);
    if (s.ok() && st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) s = PgError(r, conn_, "script");
    PQclear(r);
  }
  if (piped && PQenterPipelineMode(conn_) != 1) Broken("cannot re-enter pipeline mode");
  return s;
}

Status PgConnection::Begin() {
  if (tx_ != TxState::kIdle) return Internal("a transaction is already open on this connection");
  tx_ = TxState::kPending;  // BEGIN goes with the first statement.
  held_ = Status::Ok();     // Of a transaction that ended: not ours.
  return Status::Ok();
}

Status PgConnection::Commit() {
  const TxState was = tx_;
  tx_ = TxState::kIdle;
  if (was == TxState::kPending) return Status::Ok();  // No statement ran: nothing to commit.
  SendText("COMMIT");
  PGresult* r = nullptr;
  Status s = Round(&r);
  // COMMIT of a transaction an error aborted answers "ROLLBACK", not an error: the job went on
  // past a failed statement without a savepoint (a bug), and nothing of it was kept.
  if (s.ok() && (r == nullptr || std::strcmp(PQcmdStatus(r), "COMMIT") != 0)) {
    s = Internal("the ledger rolled the transaction back at COMMIT (a statement of it failed)");
  }
  if (r != nullptr) PQclear(r);
  if (!s.ok() && !broken_) {
    // An error earlier in this pipeline (a statement sent ahead) makes the server skip the
    // COMMIT with the rest of it, leaving the aborted transaction open: end it, or the next
    // job's BEGIN would fail. Outside a transaction ROLLBACK only warns.
    SendText("ROLLBACK");
    Sync(true);
  }
  return s;
}

void PgConnection::Rollback() {
  const TxState was = tx_;
  tx_ = TxState::kIdle;
  if (was != TxState::kOpen && pending_.empty()) return;
  // Nothing is lost by a failed rollback; its answer is read at the next use.
  if (was == TxState::kOpen) SendText("ROLLBACK");
  if (!broken_) Sync(true);
}

}  // namespace rp::ledger
