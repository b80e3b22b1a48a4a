#include "common/sqlite/sqlite.h"

#include <spdlog/spdlog.h>

#include <mutex>

#include "common/check.h"

namespace rp::sql {

namespace {

// The operation an extended SQLITE_IOERR code names, for the message.
std::string_view IoErrorName(int code) {
  switch (code) {
    case SQLITE_IOERR_FSYNC:
    case SQLITE_IOERR_DIR_FSYNC:
      return "fsync";
    case SQLITE_IOERR_WRITE:
      return "write";
    case SQLITE_IOERR_READ:
    case SQLITE_IOERR_SHORT_READ:
      return "read";
    case SQLITE_IOERR_TRUNCATE:
      return "truncate";
    default:
      return "file operation";
  }
}

// Process-wide settings, which SQLite takes only before its first use. Memory statistics off:
// with them on, every sqlite3_malloc and sqlite3_free takes a global mutex (turning them off
// cut the ledger writer's mutex time from ~10% of its CPU to ~3% in a profile); nothing here
// reads them (no sqlite3_memory_used, no soft heap limit).
void ConfigureSqliteOnce() {
  static std::once_flag once;
  std::call_once(once, [] {
    // SQLITE_MISUSE when something in the process initialised SQLite first: the statistics then
    // stay on, which costs speed, not correctness.
    if (sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0) != SQLITE_OK) {
      spdlog::warn("sqlite: memory statistics stay on (SQLite was initialised before us)");
    }
  });
}

}  // namespace

Status SqliteError(sqlite3* db, std::string_view what) {
  int code = sqlite3_extended_errcode(db);
  std::string msg = std::string(what) + ": " + sqlite3_errmsg(db);
  if ((code & 0xff) == SQLITE_BUSY || (code & 0xff) == SQLITE_LOCKED) {
    return Status(Error::kStorageBusy, msg);
  }
  if ((code & 0xff) == SQLITE_CONSTRAINT) return Status(Error::kConstraintViolation, msg);
  // The disk (or the file size limit) is full: nothing of the write was kept, reads still
  // work, and writes succeed again once space returns — a 503 to retry, not a bug.
  if ((code & 0xff) == SQLITE_FULL) {
    return Status(
        Error::kStorageFull,
        "the ledger's disk is full: writes are refused until space returns (" + msg + ")");
  }
  // A failed read, write or fsync of the ledger's files. After a failed fsync the kernel may
  // have dropped the dirty pages and still report later reads from its cache as if they were on
  // disk (PostgreSQL's "fsyncgate"), so no later write can be proven durable: the writer stops
  // taking writes until restart (server/ledger/sqlite_writer.h).
  if ((code & 0xff) == SQLITE_IOERR) {
    return Status(Error::kStorageFailed, "the ledger's disk failed a " +
                                             std::string(IoErrorName(code)) + " (" + msg + ")");
  }
  return Internal(msg);
}

Stmt& Stmt::Bind(int index, int64_t value) {
  sqlite3_bind_int64(stmt_, index, value);
  return *this;
}

Stmt& Stmt::Bind(int index, std::string_view value) {
  sqlite3_bind_text(stmt_, index, value.data(), static_cast<int>(value.size()), SQLITE_TRANSIENT);
  return *this;
}

Stmt& Stmt::BindNull(int index) {
  sqlite3_bind_null(stmt_, index);
  return *this;
}

bool Stmt::Step() {
  int rc = sqlite3_step(stmt_);
  if (rc == SQLITE_ROW) return true;
  if (rc != SQLITE_DONE) status_ = SqliteError(db_, "step");
  return false;
}

void Stmt::Reset() {
  sqlite3_reset(stmt_);
  sqlite3_clear_bindings(stmt_);
  status_ = Status::Ok();
}

std::string Stmt::Text(int col) const {
  const unsigned char* p = sqlite3_column_text(stmt_, col);
  if (p == nullptr) return {};
  return std::string(reinterpret_cast<const char*>(p),
                     static_cast<size_t>(sqlite3_column_bytes(stmt_, col)));
}

Result<std::unique_ptr<Db>> Db::Open(const std::string& path, const OpenMode& mode) {
  ConfigureSqliteOnce();
  sqlite3* raw = nullptr;
  int flags = SQLITE_OPEN_NOMUTEX |
              (mode.read_only ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE);
  int rc = sqlite3_open_v2(path.c_str(), &raw, flags, nullptr);
  if (rc != SQLITE_OK) {
    Status s = Internal("open " + path + ": " + (raw ? sqlite3_errmsg(raw) : "out of memory"));
    sqlite3_close(raw);
    return s;
  }
  // Set before anything else touches the file: a concurrent open can otherwise fail with
  // "database is locked" (shared facts).
  sqlite3_busy_timeout(raw, mode.busy_timeout_ms);
  return std::unique_ptr<Db>(new Db(raw));
}

Db::~Db() {
  cache_.clear();
  sqlite3_close_v2(db_);
}

Status Db::Exec(std::string_view sql) {
  char* err = nullptr;
  std::string owned(sql);
  int rc = sqlite3_exec(db_, owned.c_str(), nullptr, nullptr, &err);
  if (rc != SQLITE_OK) {
    Status s = SqliteError(db_, err ? err : "exec");
    sqlite3_free(err);
    return s;
  }
  return Status::Ok();
}

Result<std::unique_ptr<Stmt>> Db::Compile(std::string_view sql) {
  sqlite3_stmt* stmt = nullptr;
  int rc = sqlite3_prepare_v3(db_, sql.data(), static_cast<int>(sql.size()),
                              SQLITE_PREPARE_PERSISTENT, &stmt, nullptr);
  if (rc != SQLITE_OK) {
    Status s = SqliteError(db_, "compile");
    sqlite3_finalize(stmt);
    return s;
  }
  return std::make_unique<Stmt>(db_, stmt);
}

Stmt& Db::Prepare(const std::string& sql) {
  auto it = cache_.find(sql);
  if (it != cache_.end()) {
    it->second->Reset();
    return *it->second;
  }
  sqlite3_stmt* stmt = nullptr;
  int rc = sqlite3_prepare_v3(db_, sql.c_str(), -1, SQLITE_PREPARE_PERSISTENT, &stmt, nullptr);
  if (rc != SQLITE_OK) {
    spdlog::critical("SQL does not compile: {}: {}", sqlite3_errmsg(db_), sql);
  }
  RP_CHECK(rc == SQLITE_OK);
  auto [pos, inserted] = cache_.emplace(sql, std::make_unique<Stmt>(db_, stmt));
  return *pos->second;
}

}  // namespace rp::sql
