#include "common/process/pg_process.h"

#include <fcntl.h>
#include <libpq-fe.h>
#include <pwd.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <thread>

#include "common/crypto.h"
#include "common/process/redis_process.h"

namespace rp {
namespace {

namespace fs = std::filesystem;

bool IsRoot() {
  return geteuid() == 0;
}

// A new file readable by its owner alone (0600) holding text, given to uid:gid. Refuses a file
// already there and a symlink in its place: it holds the password.
Status WritePrivateFile(const std::string& path, const std::string& text, uid_t uid, gid_t gid) {
  const int fd = open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
  if (fd < 0) {
    return Status(Error::kStartFailed, "cannot create " + path + ": " + std::strerror(errno));
  }
  bool ok = write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size());
  if (ok && uid != geteuid()) ok = fchown(fd, uid, gid) == 0;
  ok = close(fd) == 0 && ok;
  if (!ok) return Status(Error::kStartFailed, "cannot write " + path);
  return Status::Ok();
}

// A path as a URL query value: unreserved characters and '/' as they are, the rest %XX.
std::string QueryEncoded(const std::string& s) {
  static const char* kHex = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '/' || c == '-' || c == '.' || c == '_' || c == '~') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  return out;
}

}  // namespace

PostgresProcess::PostgresProcess(std::string dir, PostgresOptions options)
    : dir_(fs::absolute(dir).lexically_normal().string()),
      password_(crypto::RandomHex(24)),
      options_(std::move(options)),
      port_(FreeLoopbackPort()) {}

PostgresProcess::~PostgresProcess() {
  Crash();
  if (cluster_dir_ours_ && !keep_cluster_) {
    std::error_code ec;
    fs::remove_all(cluster_dir_, ec);
    fs::remove(dir_ + "/data", ec);  // The symlink to it.
  }
}

std::string PostgresProcess::DatabaseUrl(const std::string& name) const {
  return "postgresql://postgres@127.0.0.1:" + std::to_string(port_) + "/" + name +
         "?passfile=" + QueryEncoded(dir_ + "/pgpass");
}

std::string PostgresProcess::url() const {
  return DatabaseUrl("postgres");
}

std::vector<std::string> PostgresProcess::AsOwner(std::vector<std::string> argv) const {
  if (!IsRoot()) return argv;
  // --pdeathsig keep: the kernel forgets the parent-death signal (SIGKILL, set by ChildProcess)
  // when the user changes; setpriv sets it again, so the server dies with us like any child.
  std::vector<std::string> out = {"/usr/bin/setpriv",
                                  "--reuid=postgres",
                                  "--regid=postgres",
                                  "--init-groups",
                                  "--pdeathsig",
                                  "keep",
                                  "--"};
  out.insert(out.end(), argv.begin(), argv.end());
  return out;
}

// dir_ (created 0700 when missing: ours, so its mode is ours to choose), and the cluster's
// directory. As root, the server runs as `postgres`, which must reach the cluster: a fresh
// mkdtemp directory under /tmp (open to every user by design; TMPDIR may be a private folder)
// given to `postgres`, rather than opening up any folder on the way to dir_.
Status PostgresProcess::MakeDirs() {
  std::error_code ec;
  const bool existed = fs::exists(dir_, ec);
  fs::create_directories(dir_, ec);
  if (ec) return Status(Error::kStartFailed, "cannot create " + dir_ + ": " + ec.message());
  if (!existed && chmod(dir_.c_str(), 0700) != 0) {
    return Status(Error::kStartFailed, "cannot make " + dir_ + " private");
  }
  if (!IsRoot()) {
    cluster_dir_ = dir_;
    return Status::Ok();
  }
  const passwd* pw = getpwnam("postgres");
  if (pw == nullptr) {
    return Status(Error::kStartFailed,
                  "running as root needs the postgres user (apt install postgresql)");
  }
  std::string made = "/tmp/rp-pg-XXXXXX";
  if (mkdtemp(made.data()) == nullptr) {
    return Status(Error::kStartFailed,
                  std::string("cannot create /tmp/rp-pg-*: ") + std::strerror(errno));
  }
  cluster_dir_ = made;
  cluster_dir_ours_ = true;
  if (chown(cluster_dir_.c_str(), pw->pw_uid, pw->pw_gid) != 0) {
    return Status(Error::kStartFailed, "cannot give " + cluster_dir_ + " to the postgres user");
  }
  // The ledger found from the caller's folder too (rp-sim names that folder after a failed run).
  fs::create_directory_symlink(cluster_dir_ + "/data", dir_ + "/data", ec);
  return Status::Ok();
}

Status PostgresProcess::InitDb() {
  if (Status s = MakeDirs(); !s.ok()) return s;
  const passwd* pw = IsRoot() ? getpwnam("postgres") : nullptr;
  // initdb reads the superuser's password from a file, as the server's user; gone afterwards.
  const std::string pwfile = cluster_dir_ + "/initdb.pw";
  Status s = WritePrivateFile(pwfile, password_ + "\n", pw ? pw->pw_uid : geteuid(),
                              pw ? pw->pw_gid : getegid());
  // Clients read it from here (url() names it): hostname:port:database:user:password.
  if (s.ok()) {
    s = WritePrivateFile(dir_ + "/pgpass", "*:*:*:postgres:" + password_ + "\n", geteuid(),
                         getegid());
  }
  if (!s.ok()) return s;
  auto init = ChildProcess::Spawn(
      AsOwner({options_.bin_dir + "/initdb", "-D", cluster_dir_ + "/data", "-U", "postgres", "-A",
               "scram-sha-256", "--pwfile", pwfile, "-E", "UTF8", "--no-locale"}),
      {}, dir_ + "/initdb.log");
  Result<int> rc = init.ok() ? init->Wait(120000) : Result<int>(init.status());
  unlink(pwfile.c_str());
  if (!rc.ok() || *rc != 0) {
    return Status(Error::kStartFailed, "initdb failed; see " + dir_ + "/initdb.log");
  }
  return Status::Ok();
}

Status PostgresProcess::Start() {
  if (child_) return Status::Ok();
  if (cluster_dir_.empty()) {  // First start: a cluster of our own.
    Status s = InitDb();
    if (!s.ok()) return s;
  }
  // Durability settings are explicit: fsync and synchronous_commit on, whatever the defaults.
  auto child = ChildProcess::Spawn(
      AsOwner({options_.bin_dir + "/postgres",
               "-D",
               cluster_dir_ + "/data",
               "-p",
               std::to_string(port_),
               "-k",
               cluster_dir_,
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
  return DatabaseUrl(name);
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
    (void)child_->Wait(5000);  // After SIGKILL; the destructor reaps it if this timed out.
  }
  child_.reset();
}

}  // namespace rp
