// The statement interface the ledger's tables are written against, and the transactions they
// run in. Every statement of the ledger is a static `Sql` in the portable dialect — `?`
// placeholders, standard SQL both engines accept — with `{hook}`s for the few places the engines
// differ, which each engine fills in when it prepares the statement (the engine-specific text
// lives in the engine):
//   {for_update}   row lock held to commit in a read of the write side (" FOR UPDATE"; "" where
//                  a single writer already serialises every write)
//   {skip_locked}  " FOR UPDATE SKIP LOCKED" on engines with row locks (leases); ""
//   {row_id}       the engine's physical row id ("rowid"), for "the first free row" scans
//   {in_row_order} " ORDER BY rowid" where that is the free-row index's own order (SQLite);
//                  "" where any row will do and an order would cost a sort (PostgreSQL)
//   {json_array}   a table function over a JSON array parameter whose `value` column holds
//                  each element ("json_each"; "jsonb_array_elements_text"): one statement for
//                  a list of any length
//   {begin}        a write transaction's start ("BEGIN IMMEDIATE": take the write lock at once)
//   {pk}, {int}    DDL: an auto-assigned 64-bit primary key; a 64-bit integer column
// Statements are cached per connection by a small id, so preparing one is an index, not a hash
// of its text.
//
// Thread safety: a Connection and its statements belong to one thread at a time (the engine
// hands them out); Sql objects are immutable and shared.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

#include "common/status.h"

namespace rp::ledger {

class Sql {
 public:
  // Whether the job reads the statement's answer at once.
  enum class Answer {
    kAwaited,
    // A write whose rows, change count and error the job never looks at (an audit row, a task
    // row): an engine that talks to a server may send it ahead with the next statement that
    // is awaited (or the COMMIT), whose error its own error then becomes. Either way nothing of
    // the transaction commits if it failed. Exec() of it answers OK at once on such engines.
    kSentAhead,
  };
  // text must outlive the program (a literal); ids are assigned in construction order.
  explicit Sql(const char* text, Answer answer = Answer::kAwaited);
  Sql(const Sql&) = delete;
  Sql& operator=(const Sql&) = delete;
  std::string_view text() const { return text_; }
  int id() const { return id_; }
  bool sent_ahead() const { return answer_ == Answer::kSentAhead; }

 private:
  const char* text_;
  int id_;
  Answer answer_;
};

// One engine's text for each {hook} of the portable dialect (the list above): the table an
// engine fills in, in one place, when it is added.
struct Dialect {
  std::string_view for_update;
  std::string_view skip_locked;
  std::string_view in_row_order;
  std::string_view row_id;
  std::string_view json_array;
  std::string_view begin;
  std::string_view pk;
  std::string_view int_type;  // {int}
};

// `portable` with every {hook} replaced by the dialect's text. Pure; thread-safe.
std::string FillHooks(std::string_view portable, const Dialect& dialect);

// One prepared statement of an engine. Owned by its connection.
class Statement {
 public:
  virtual ~Statement() = default;
  virtual void BindInt(int index, int64_t value) = 0;  // 1-based.
  virtual void BindText(int index, std::string_view value) = 0;
  virtual void BindNull(int index) = 0;
  // Runs the statement (first call) or advances it; true when a row is available. On an error
  // returns false and sets status().
  virtual bool Step() = 0;
  virtual const Status& status() const = 0;
  virtual int64_t Int(int col) const = 0;
  virtual std::string Text(int col) const = 0;
  virtual bool IsNull(int col) const = 0;
  // Rows the statement's INSERT, UPDATE or DELETE changed.
  virtual int64_t Changes() const = 0;
  // Forgets bindings and results, ready for the next use.
  virtual void Reset() = 0;
};

class Connection {
 public:
  virtual ~Connection() = default;
  // The statement for sql, reset. Aborts on SQL that does not compile: statements are
  // constants, so that is a programming error caught by any test that runs it.
  virtual Statement& Prepare(const Sql& sql) = 0;
  // Runs fn inside a savepoint: when fn returns non-OK its changes are rolled back, and the
  // enclosing transaction goes on. fn's status is returned.
  virtual Status Nested(const std::function<Status()>& fn) = 0;
  // Runs a script of statements without results (schema migrations), hooks filled in as for
  // statements, outside any transaction the engine manages.
  virtual Status ExecScript(std::string_view sql) = 0;
  // "sqlite" | "postgres".
  virtual std::string_view engine() const = 0;
};

// Statements run since the process started, every engine and connection (one per Query: a use
// of a prepared statement), exported as rp_ledger_statements_total: the work per claim a scheme
// is built to save. Thread-safe; relaxed (a count, not a synchronisation point).
void CountStatement();
int64_t StatementsRun();

// One use of a prepared statement: binds values in order (the first Bind fills the first `?`),
// steps through rows, and resets the statement when it goes out of scope. Not thread-safe.
class Query {
 public:
  Query(Connection& conn, const Sql& sql) : s_(&conn.Prepare(sql)) { CountStatement(); }
  ~Query() { s_->Reset(); }
  Query(const Query&) = delete;
  Query& operator=(const Query&) = delete;

  Query& Bind(int64_t value) {
    s_->BindInt(next_++, value);
    return *this;
  }
  Query& Bind(std::string_view value) {
    s_->BindText(next_++, value);
    return *this;
  }
  Query& Bind(const std::string& value) { return Bind(std::string_view(value)); }
  Query& Bind(const char* value) { return Bind(std::string_view(value)); }
  Query& BindNull() {
    s_->BindNull(next_++);
    return *this;
  }
  Query& BindOptional(std::string_view value) {  // "" stored as NULL.
    return value.empty() ? BindNull() : Bind(value);
  }

  // The next row; false at the end or on an error (see status()).
  bool Next() { return s_->Step(); }
  // Runs a statement that returns no rows; its status.
  Status Exec() {
    (void)s_->Step();  // No rows to read: status() says how it went.
    return s_->status();
  }
  const Status& status() const { return s_->status(); }
  int64_t Int(int col) const { return s_->Int(col); }
  std::string Text(int col) const { return s_->Text(col); }
  bool IsNull(int col) const { return s_->IsNull(col); }
  int64_t changes() const { return s_->Changes(); }

 private:
  Statement* s_;
  int next_ = 1;
};

// A read-only transaction: one consistent snapshot of the ledger. Given to callbacks by the
// engine; valid only inside them.
class ReadTx {
 public:
  explicit ReadTx(Connection& conn) : conn_(conn) {}
  ReadTx(const ReadTx&) = delete;
  ReadTx& operator=(const ReadTx&) = delete;
  Query Run(const Sql& sql) { return Query(conn_, sql); }
  std::string_view engine() const { return conn_.engine(); }

 protected:
  Connection& conn_;
};

// A write transaction (it can read too). Given to write jobs by the engine; valid only inside
// them. A job that returns non-OK is rolled back whole.
class Tx : public ReadTx {
 public:
  explicit Tx(Connection& conn) : ReadTx(conn) {}
  // Runs fn in a savepoint: non-OK rolls back fn's changes only (one claim of a batch).
  Status Nested(const std::function<Status(Tx&)>& fn) {
    return conn_.Nested([&] { return fn(*this); });
  }
};

// NotFound-style helper for readers: a missing row as the given error.
inline Status Missing(Error e, std::string what) {
  return {e, std::move(what)};
}

}  // namespace rp::ledger
