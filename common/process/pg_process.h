// PostgresProcess: a private PostgreSQL 15 server (Debian's binaries, never a stand-in) on a free
// loopback port, its cluster, socket and log in its own directory — for the tests, rp-sim and
// rp-bench. Private as in nobody else's: every connection, over TCP or the unix socket, needs a
// random password (SCRAM) that only the owner's password file holds, so another local user (or
// a program run as `postgres`) cannot read or change the ledger mid-run.
// PostgreSQL refuses to run as root, so when we are root the server runs as the `postgres` user
// the Debian package creates (setpriv, which execs, so the postmaster itself is our child and
// takes our signals) and its cluster lives in a private 0700 directory of its own under /tmp that
// belongs to `postgres` — no folder of anybody else changes its permissions for it. The server
// dies with us however we end (the parent-death signal, kept across setpriv's change of user).
// Durable as configured: fsync and synchronous_commit on. Not thread-safe: one owner.
#pragma once

#include <optional>
#include <string>

#include "common/process/process.h"
#include "common/status.h"

namespace rp {

struct PostgresOptions {
  std::string bin_dir = "/usr/lib/postgresql/15/bin";
  int max_connections = 200;
  int commit_delay_us = 0;  // Group commit: how long a commit waits for others to share its flush.
  int commit_siblings = 5;  // ...when at least this many transactions are open.
  std::string shared_buffers = "128MB";
  // Loads pg_stat_statements (Debian's postgresql package has it): figures per statement, for
  // StatementFigures(). Costs the server a little per statement; off unless asked for.
  bool track_statements = false;
};

class PostgresProcess {
 public:
  // Picks a free port and a random password; creates nothing yet. dir: the logs, the password
  // file and (unless we are root) the cluster; created 0700 if missing.
  explicit PostgresProcess(std::string dir, PostgresOptions options = {});
  // An immediate shutdown if still running; removes a cluster it made outside dir (as root)
  // unless KeepCluster() was called.
  ~PostgresProcess();
  PostgresProcess(const PostgresProcess&) = delete;
  PostgresProcess& operator=(const PostgresProcess&) = delete;

  // Creates the cluster on first use (initdb; SCRAM password authentication for every
  // connection, local and TCP; the password file written 0600), starts the server and waits until
  // it accepts queries (at most 60 s). Unavailable(start_failed) naming the log otherwise.
  Status Start();
  // A fast shutdown (rolls back open transactions, checkpoints): a clean stop.
  Status Stop();
  // An immediate shutdown: no checkpoint, as a crash would leave it; the next Start() replays
  // the WAL. Every committed transaction survives it.
  void Crash();
  bool running() const { return child_.has_value(); }
  pid_t pid() const { return child_ ? child_->pid() : -1; }  // -1 when not running.
  int port() const { return port_; }
  // postgresql://postgres@127.0.0.1:<port>/postgres?passfile=<dir>/pgpass: the password stays in
  // the file (never in the URL, so never in a log, an error or `ps`), read by libpq.
  std::string url() const;
  // The directory that holds data/ (the cluster) and the server's socket: dir(), or as root a
  // private directory under /tmp that belongs to `postgres`.
  const std::string& cluster_dir() const { return cluster_dir_; }
  // The destructor leaves the cluster where it is (a failed run's ledger, to read afterwards).
  void KeepCluster() { keep_cluster_ = true; }
  // Creates database `name` (empty, or a copy of `template_name`) and returns its URL. Needs a
  // running server (else start_failed); storage_busy naming the server's message when it refuses
  // (the name taken, say).
  [[nodiscard]] Result<std::string> CreateDatabase(const std::string& name,
                                                   const std::string& template_name = "") const;
  const std::string& dir() const { return dir_; }
  // With track_statements: the `limit` statements that took the most execution time (kept across
  // a clean Stop() and Start(); a Crash() loses them), as CSV (calls, total_ms, mean_ms, rows,
  // query) with a header line. bad_config without track_statements; start_failed when not running;
  // storage_busy naming the server's message when the query fails.
  [[nodiscard]] Result<std::string> StatementFigures(int limit) const;

 private:
  Status MakeDirs();
  Status InitDb();
  std::vector<std::string> AsOwner(std::vector<std::string> argv) const;
  Status WaitReady();
  std::string DatabaseUrl(const std::string& name) const;

  std::string dir_;                // Absolute: the URL names the password file in it.
  std::string cluster_dir_;        // Empty until MakeDirs().
  bool cluster_dir_ours_ = false;  // Made by MakeDirs() outside dir_: removed at the end.
  bool keep_cluster_ = false;
  std::string password_;  // Random; in memory and in dir_/pgpass only.
  PostgresOptions options_;
  int port_ = 0;
  std::optional<ChildProcess> child_;
};

}  // namespace rp
