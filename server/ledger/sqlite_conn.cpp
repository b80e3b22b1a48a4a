#include "server/ledger/sqlite_conn.h"

#include <spdlog/spdlog.h>

#include "common/check.h"

namespace rp::ledger {
namespace {

class SqliteStatement final : public Statement {
 public:
  explicit SqliteStatement(std::unique_ptr<sql::Stmt> s) : s_(std::move(s)) {}
  void BindInt(int index, int64_t value) override { s_->Bind(index, value); }
  void BindText(int index, std::string_view value) override { s_->Bind(index, value); }
  void BindNull(int index) override { s_->BindNull(index); }
  bool Step() override { return s_->Step(); }
  const Status& status() const override { return s_->status(); }
  int64_t Int(int col) const override { return s_->Int(col); }
  std::string Text(int col) const override { return s_->Text(col); }
  bool IsNull(int col) const override { return s_->IsNull(col); }
  int64_t Changes() const override { return s_->Changes(); }
  void Reset() override { s_->Reset(); }

 private:
  std::unique_ptr<sql::Stmt> s_;
};

// A statement that could not be compiled (the file lacks a table it names: not a ledger, or an
// older one): every use reports why, so a foreign file is an error, never a crash.
class FailedStatement final : public Statement {
 public:
  explicit FailedStatement(Status s) : s_(std::move(s)) {}
  void BindInt(int, int64_t) override {}
  void BindText(int, std::string_view) override {}
  void BindNull(int) override {}
  bool Step() override { return false; }
  const Status& status() const override { return s_; }
  int64_t Int(int) const override { return 0; }
  std::string Text(int) const override { return {}; }
  bool IsNull(int) const override { return true; }
  int64_t Changes() const override { return 0; }
  void Reset() override {}

 private:
  Status s_;
};

constexpr Dialect kSqliteDialect{
    .for_update = "",  // One writer: every write transaction is already serialised.
    .skip_locked = "",
    .in_row_order = " ORDER BY rowid",
    .row_id = "rowid",
    .json_array = "json_each",
    .begin = "BEGIN IMMEDIATE",  // Take the write lock at once, not at the first write.
    .pk = "INTEGER PRIMARY KEY",
    .int_type = "INTEGER",
};

// Runs a prepared no-result statement once.
Status Run(sql::Stmt& s) {
  (void)s.Step();  // No rows to read: the statement's status below says how it went.
  Status st = s.status();
  s.Reset();
  return st;
}

}  // namespace

std::string SqliteText(std::string_view portable) {
  return FillHooks(portable, kSqliteDialect);
}

Result<std::unique_ptr<SqliteConnection>> SqliteConnection::Open(const std::string& path,
                                                                 const SqliteConnectionOptions& o) {
  Result<std::unique_ptr<sql::Db>> db =
      sql::Db::Open(path, sql::OpenMode{o.read_only, o.busy_timeout_ms});
  if (!db.ok()) return db.status();
  std::string pragmas =
      "PRAGMA foreign_keys=ON; PRAGMA cache_size=-" + std::to_string(o.cache_size_kib) + ";";
  if (o.read_only) {
    pragmas += "PRAGMA query_only=ON;";
  } else {
    pragmas += "PRAGMA journal_mode=WAL; PRAGMA synchronous=" + o.synchronous +
               "; PRAGMA wal_autocheckpoint=" + std::to_string(o.wal_autocheckpoint_pages) +
               "; PRAGMA temp_store=MEMORY;";
  }
  Status s = (*db)->Exec(pragmas);
  if (!s.ok()) return s;
  std::unique_ptr<SqliteConnection> c(new SqliteConnection(std::move(db.value())));
  for (auto [slot, text] :
       {std::pair{&c->begin_read_, "BEGIN"}, std::pair{&c->begin_write_, "BEGIN IMMEDIATE"},
        std::pair{&c->commit_, "COMMIT"}, std::pair{&c->rollback_, "ROLLBACK"}}) {
    Result<std::unique_ptr<sql::Stmt>> stmt = c->db_->Compile(text);
    if (!stmt.ok()) return stmt.status();
    *slot = std::move(stmt.value());
  }
  return c;
}

SqliteConnection::~SqliteConnection() {
  // Statements before the connection they belong to.
  cache_.clear();
  savepoints_.clear();
  begin_read_.reset();
  begin_write_.reset();
  commit_.reset();
  rollback_.reset();
}

Statement& SqliteConnection::Prepare(const Sql& sql) {
  const auto id = static_cast<size_t>(sql.id());
  if (id >= cache_.size()) cache_.resize(id + 1);
  std::unique_ptr<Statement>& slot = cache_[id];
  if (!slot) {
    Result<std::unique_ptr<sql::Stmt>> compiled = db_->Compile(SqliteText(sql.text()));
    if (!compiled.ok()) {
      // Connections open after the migrations ran, so the file will not change under it.
      spdlog::debug("ledger statement does not compile here: {}", compiled.status().ToString());
      slot = std::make_unique<FailedStatement>(compiled.status());
    } else {
      slot = std::make_unique<SqliteStatement>(std::move(compiled.value()));
    }
  } else {
    slot->Reset();
  }
  return *slot;
}

SqliteConnection::Savepoint& SqliteConnection::SavepointAt(int depth) {
  while (static_cast<int>(savepoints_.size()) <= depth) {
    const std::string name = "sp" + std::to_string(savepoints_.size());
    auto sp = std::make_unique<Savepoint>();
    // Savepoint statements name no table: they compile on any SQLite connection.
    sp->open = std::move(db_->Compile("SAVEPOINT " + name).value());
    sp->rollback = std::move(db_->Compile("ROLLBACK TO " + name).value());
    sp->release = std::move(db_->Compile("RELEASE " + name).value());
    savepoints_.push_back(std::move(sp));
  }
  return *savepoints_[static_cast<size_t>(depth)];
}

Status SqliteConnection::Nested(const std::function<Status()>& fn) {
  Savepoint& sp = SavepointAt(depth_);
  Status s = Run(*sp.open);
  if (!s.ok()) return s;
  ++depth_;
  try {
    s = fn();
  } catch (const std::exception& e) {
    s = Internal(std::string("write job threw: ") + e.what());
  }
  --depth_;
  // A failed savepoint statement would leave the transaction in an unknown state: that is a
  // broken ledger connection, not an input error.
  if (!s.ok()) RP_CHECK(Run(*sp.rollback).ok());
  RP_CHECK(Run(*sp.release).ok());
  return s;
}

Status SqliteConnection::ExecScript(std::string_view sql) {
  return db_->Exec(SqliteText(sql));
}

Status SqliteConnection::Begin(bool write) {
  return Run(write ? *begin_write_ : *begin_read_);
}

Status SqliteConnection::Commit() {
  return Run(*commit_);
}

void SqliteConnection::Rollback() {
  (void)Run(*rollback_);  // Best effort: a failed COMMIT may have rolled back already.
}

}  // namespace rp::ledger
