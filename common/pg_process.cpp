#include "common/pg_process.h"

#include <libpq-fe.h>
#include <pwd.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <thread>

#include "common/redis_process.h"

namespace rp {
namespace {

namespace fs = std::filesystem;

bool IsRoot() {
  return geteuid() == 0;
}

// Gives path to the postgres user (when we are root: the server runs as it), and lets it reach
// path: each parent we own (a 0700 temporary directory, say) gains the right to be traversed
// (o+x: passing through, not listing).
Status OwnDir(const std::string& path) {
  if (!IsRoot()) return Status::Ok();
  for (fs::path p = fs::absolute(path).parent_path(); p != p.root_path(); p = p.parent_path()) {
    struct stat st {};
    if (stat(p.c_str(), &st) == 0 && st.st_uid == geteuid() && (st.st_mode & S_IXOTH) == 0) {
      (void)chmod(p.c_str(), (st.st_mode & 07777) | S_IXOTH);
    }
  }
  const passwd* pw = getpwnam("postgres");
  if (pw == nullptr) {
    return Status(Error::kStartFailed,
                  "running as root needs the postgres user (apt install postgresql)");
  }
  if (chown(path.c_str(), pw->pw_uid, pw->pw_gid) != 0) {
    return Status(Error::kStartFailed, "cannot give " + path + " to the postgres user");
  }
  return Status::Ok();
}

}  // namespace

PostgresProcess::PostgresProcess(std::string dir, PostgresOptions options)
    : dir_(std::move(dir)), options_(std::move(options)), port_(FreeLoopbackPort()) {}

PostgresProcess::~PostgresProcess() {
  Crash();
}

std::string PostgresProcess::url() const {
  return "postgresql://postgres@127.0.0.1:" + std::to_string(port_) + "/postgres";
}

std::vector<std::string> PostgresProcess::AsOwner(std::vector<std::string> argv) const {
  if (!IsRoot()) return argv;
  std::vector<std::string> out = {"/usr/bin/setpriv", "--reuid=postgres", "--regid=postgres",
                                  "--init-groups", "--"};
  out.insert(out.end(), argv.begin(), argv.end());
  return out;
}

Status PostgresProcess::InitDb() {
  std::error_code ec;
  fs::create_directories(dir_, ec);
  if (ec) return Status(Error::kStartFailed, "cannot create " + dir_ + ": " + ec.message());
  Status s = OwnDir(dir_);
  if (!s.ok()) return s;
  const std::string data = dir_ + "/data";
  auto init = ChildProcess::Spawn(AsOwner({options_.bin_dir + "/initdb", "-D", data, "-U",
                                           "postgres", "-A", "trust", "-E", "UTF8", "--no-locale"}),
                                  {}, dir_ + "/initdb.log");
  if (!init.ok()) return init.status();
  Result<int> rc = init->Wait(120000);
  if (!rc.ok() || *rc != 0) {
    return Status(Error::kStartFailed, "initdb failed; see " + dir_ + "/initdb.log");
  }
  return Status::Ok();
}

Status PostgresProcess::Start() {
  if (child_) return Status::Ok();
  if (!fs::exists(dir_ + "/data/PG_VERSION")) {
    Status s = InitDb();
    if (!s.ok()) return s;
  }
  // Durability settings are explicit: fsync and synchronous_commit on, whatever the defaults.
  auto child = ChildProcess::Spawn(
      AsOwner({options_.bin_dir + "/postgres",
               "-D",
               dir_ + "/data",
               "-p",
               std::to_string(port_),
               "-k",
               dir_,
               "-c",
               "listen_addresses=127.0.0.1",
               "-c",
               "fsync=on",
               "-c",
               "synchronous_commit=on",
               "-c",
               "full_page_writes=on",
               "-c",
               "max_connections=" + std::to_string(options_.max_connections),
               "-c",
               "commit_delay=" + std::to_string(options_.commit_delay_us),
               "-c",
               "commit_siblings=" + std::to_string(options_.commit_siblings),
               "-c",
               "shared_buffers=" + options_.shared_buffers,
               "-c",
               "log_min_messages=warning",
               "-c",
               options_.track_statements ? "shared_preload_libraries=pg_stat_statements"
                                         : "shared_preload_libraries="}),
      {}, dir_ + "/postgres.log");
  if (!child.ok()) return child.status();
  child_.emplace(std::move(child.value()));
  return WaitReady();
}

Status PostgresProcess::WaitReady() {
  const std::string conninfo =
      "host=127.0.0.1 port=" + std::to_string(port_) + " user=postgres dbname=postgres";
  for (int i = 0; i < 1200; ++i) {
    if (PQping(conninfo.c_str()) == PQPING_OK) return Status::Ok();
    if (child_->Wait(50).ok()) {
      child_.reset();
      return Status(Error::kStartFailed, "postgres exited; see " + dir_ + "/postgres.log");
    }
  }
  Crash();
  return Status(Error::kStartFailed, "postgres did not accept queries within 60 s");
}

Status PostgresProcess::Stop() {
  if (!child_) return Status::Ok();
  child_->Signal(SIGINT);  // Fast shutdown.
  Result<int> rc = child_->Wait(60000);
  if (!rc.ok()) {
    Crash();
    return Status(Error::kTimeout, "postgres did not stop within 60 s");
  }
  child_.reset();
  return Status::Ok();
}

Result<std::string> PostgresProcess::CreateDatabase(const std::string& name,
                                                    const std::string& template_name) const {
  if (!child_) return Status(Error::kStartFailed, "postgres is not running");
  // Names go into the statement as they are: only plain lower-case identifiers.
  for (const std::string* n : {&name, &template_name}) {
    const bool plain = std::all_of(n->begin(), n->end(), [](char ch) {
      return (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '_';
    });
    if (!plain) {
      return Status(Error::kBadConfig,
                    "database name '" + *n + "': use lower-case letters, digits and '_'");
    }
  }
  PGconn* c = PQconnectdb(url().c_str());
  const std::string create =
      "CREATE DATABASE " + name + (template_name.empty() ? "" : " TEMPLATE " + template_name);
  PGresult* r = PQexec(c, create.c_str());
  const bool ok = PQresultStatus(r) == PGRES_COMMAND_OK;
  const std::string error = ok ? "" : create + ": " + PQerrorMessage(c);
  PQclear(r);
  PQfinish(c);
  if (!ok) return Status(Error::kStorageBusy, error);
  return "postgresql://postgres@127.0.0.1:" + std::to_string(port_) + "/" + name;
}

namespace {

// One CSV field: quoted, inner quotes doubled, newlines folded (a statement's text spans lines).
std::string CsvField(std::string_view v) {
  std::string out = "\"";
  for (char ch : v) {
    if (ch == '"')
      out += "\"\"";
    else
      out += (ch == '\n' || ch == '\r') ? ' ' : ch;
  }
  return out + "\"";
}

}  // namespace

Result<std::string> PostgresProcess::StatementFigures(int limit) const {
  if (!options_.track_statements) {
    return Status(Error::kBadConfig, "statement figures need track_statements");
  }
  if (!child_) return Status(Error::kStartFailed, "postgres is not running");
  PGconn* c = PQconnectdb(url().c_str());
  const std::string query =
      "SELECT calls, round(total_exec_time::numeric, 3), round(mean_exec_time::numeric, 3), "
      "rows, query FROM pg_stat_statements ORDER BY total_exec_time DESC LIMIT " +
      std::to_string(limit);
  PGresult* ext = PQexec(c, "CREATE EXTENSION IF NOT EXISTS pg_stat_statements");
  const bool made = PQresultStatus(ext) == PGRES_COMMAND_OK;
  PQclear(ext);
  PGresult* r = made ? PQexec(c, query.c_str()) : nullptr;
  Result<std::string> out =
      Status(Error::kStorageBusy, "pg_stat_statements: " + std::string(PQerrorMessage(c)));
  if (r != nullptr && PQresultStatus(r) == PGRES_TUPLES_OK) {
    std::string csv = "calls,total_ms,mean_ms,rows,query\n";
    for (int row = 0; row < PQntuples(r); ++row) {
      for (int col = 0; col < 4; ++col) csv += std::string(PQgetvalue(r, row, col)) + ",";
      csv += CsvField(PQgetvalue(r, row, 4)) + "\n";
    }
    out = std::move(csv);
  }
  PQclear(r);
  PQfinish(c);
  return out;
}

void PostgresProcess::Crash() {
  if (!child_) return;
  child_->Signal(SIGQUIT);  // Immediate shutdown: no checkpoint.
  if (!child_->Wait(30000).ok()) {
    child_->Signal(SIGKILL);
    (void)child_->Wait(5000);
  }
  child_.reset();
}

}  // namespace rp
