// rp-server: the reference red-packet server. Subcommands:
//   serve  — run the HTTP server (see docs/api.md)
//   token  — print bearer tokens for users (load tests, demos)
//   check  — run the conservation checker over a ledger file; exit 0 clean, 1 violated
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>
#include <CLI/CLI.hpp>

#include <pthread.h>
#include <csignal>
#include <cstdio>
#include <iostream>

#include "common/crypto.h"
#include "server/app.h"
#include "server/base/config.h"

namespace {

// Signals are blocked in every thread (set before any thread starts) and taken by sigwait in
// main, so shutdown runs on an ordinary thread instead of inside a signal handler.
sigset_t BlockShutdownSignals() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  return set;
}

// True when the subcommand has this flag and it was given (subcommands have different flags).
bool Given(const CLI::App& cmd, const std::string& name) {
  const CLI::Option* o = cmd.get_option_no_throw(name);
  return o != nullptr && o->count() > 0;
}

// Loads the config file (if any), applies the flags given on the command line, checks it.
bool LoadConfig(const std::string& config_path, const rp::base::ServerConfig& config_flags,
                const CLI::App& cmd, rp::base::ServerConfig* out) {
  rp::base::ServerConfig& config = *out;
  if (!config_path.empty()) {
    rp::Status s = rp::base::LoadConfigFile(config_path, &config);
    if (!s.ok()) {
      std::cerr << "rp-server: " << s.message() << "\n";
      return false;
    }
  }
  // Flags given on the command line override the file.
  if (Given(cmd, "--port")) config.port = config_flags.port;
  if (Given(cmd, "--db")) config.db_path = config_flags.db_path;
  if (Given(cmd, "--claim-scheme")) config.claim_scheme = config_flags.claim_scheme;
  if (Given(cmd, "--packet-ttl")) config.packet_ttl_s = config_flags.packet_ttl_s;
  if (Given(cmd, "--threads")) config.threads = config_flags.threads;
  if (Given(cmd, "--synchronous")) config.synchronous = config_flags.synchronous;
  if (Given(cmd, "--scan-interval-ms"))
    config.scanner_interval_ms = config_flags.scanner_interval_ms;
  if (Given(cmd, "--seed")) config.rng_seed = config_flags.rng_seed;
  if (Given(cmd, "--mocks")) config.mocks_url = config_flags.mocks_url;
  if (Given(cmd, "--redis")) config.redis_url = config_flags.redis_url;
  if (Given(cmd, "--no-workers")) config.async_in_process = false;
  rp::Status s = rp::base::FinishConfig(&config);
  if (!s.ok()) {
    std::cerr << "rp-server: " << s.message() << "\n";
    return false;
  }
  return true;
}

int Serve(const std::string& config_path, const rp::base::ServerConfig& config_flags,
          const CLI::App& cmd, bool worker_only) {
  rp::base::ServerConfig config;
  if (!LoadConfig(config_path, config_flags, cmd, &config)) return 2;
  sigset_t signals = BlockShutdownSignals();
  auto app = worker_only ? rp::App::StartWorker(config) : rp::App::Start(config);
  if (!app.ok()) {
    std::cerr << "rp-server: " << app.status().ToString() << "\n";
    return 1;
  }
  if (!worker_only) {
    std::printf("rp-server listening on http://%s:%d\n", config.host.c_str(), (*app)->port());
  } else {
    std::printf("rp-server worker running on %s\n", config.db_path.c_str());
  }
  std::fflush(stdout);
  int sig = 0;
  sigwait(&signals, &sig);
  spdlog::info("signal {}: draining in-flight requests", sig);
  (*app)->Stop();
  spdlog::info("stopped cleanly");
  return 0;
}

int Token(const std::string& config_path, int64_t user, int64_t count, int64_t ttl_s, bool admin) {
  rp::base::ServerConfig config;
  if (!config_path.empty()) {
    rp::Status s = rp::base::LoadConfigFile(config_path, &config);
    if (!s.ok()) {
      std::cerr << "rp-server: " << s.message() << "\n";
      return 2;
    }
  }
  rp::base::ResolveSecrets(&config);
  if (config.auth_secret.size() < 16) {
    std::cerr << "rp-server: auth secret missing or shorter than 16 bytes (secrets.auth or "
                 "RP_AUTH_SECRET)\n";
    return 2;
  }
  const int64_t expires_at_s = std::time(nullptr) + ttl_s;
  if (admin) {
    std::printf("%s\n", rp::auth::MintAdminToken(config.auth_secret, expires_at_s).c_str());
    return 0;
  }
  if (user < 1) {
    std::cerr << "rp-server: token needs --user ID (or --admin)\n";
    return 2;
  }
  std::string out;
  for (int64_t i = 0; i < count; ++i) {
    out += rp::auth::MintToken(config.auth_secret, user + i, expires_at_s);
    out += '\n';
  }
  std::fwrite(out.data(), 1, out.size(), stdout);
  return 0;
}

int Recon(const std::string& config_path, const rp::base::ServerConfig& flags, const CLI::App& cmd,
          int64_t since_s) {
  rp::base::ServerConfig config;
  if (!LoadConfig(config_path, flags, cmd, &config)) return 2;
  if (config.wallet_url.empty()) {
    std::cerr << "rp-server: recon needs --mocks URL (or payment.url and wallet.url)\n";
    return 2;
  }
  bool clean = false;
  rp::Result<std::string> report = rp::ReconcileLedger(config, since_s * 1000, &clean);
  if (!report.ok()) {
    std::cerr << "rp-server: " << report.status().ToString() << "\n";
    return 2;
  }
  std::cout << *report;
  return clean ? 0 : 1;
}

int Check(const std::string& db_path) {
  bool ok = false;
  rp::Result<std::string> report = rp::CheckLedger(db_path, &ok);
  if (!report.ok()) {
    std::cerr << "rp-server: " << report.status().ToString() << "\n";
    return 2;
  }
  std::cout << *report;
  return ok ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  spdlog::set_default_logger(spdlog::stderr_color_mt("rp-server"));
  CLI::App cli{"rp-server: reference red-packet server (Redpacket Lab)"};
  cli.require_subcommand(1);
  std::string config_path;

  rp::base::ServerConfig flags;
  CLI::App* serve = cli.add_subcommand("serve", "Run the HTTP server");
  serve->add_option("--config", config_path, "YAML config file")->check(CLI::ExistingFile);
  serve->add_option("--port", flags.port, "Listen port; 0 picks a free one")
      ->check(CLI::Range(0, 65535));
  serve->add_option("--db", flags.db_path, "SQLite ledger path");
  serve->add_option("--claim-scheme", flags.claim_scheme, "Claim scheme")
      ->check(CLI::IsMember({"db_lock", "batched", "mem_lock", "presplit"}));
  serve->add_option("--packet-ttl", flags.packet_ttl_s, "Seconds until a packet expires")
      ->check(CLI::Range(int64_t{1}, int64_t{30 * 86400}));
  serve->add_option("--threads", flags.threads, "HTTP I/O threads")->check(CLI::Range(1, 256));
  serve->add_option("--synchronous", flags.synchronous, "SQLite synchronous: FULL or NORMAL")
      ->check(CLI::IsMember({"FULL", "NORMAL"}));
  serve->add_option("--scan-interval-ms", flags.scanner_interval_ms, "Expiry scanner period")
      ->check(CLI::Range(int64_t{10}, int64_t{3600000}));
  serve->add_option("--seed", flags.rng_seed, "RNG seed for share draws (0: random)");
  serve->add_option("--mocks", flags.mocks_url, "rp-mock URL for payment, wallet, reward, social");
  serve->add_option("--redis", flags.redis_url, "Redis, e.g. tcp://127.0.0.1:6390");
  bool no_workers = false;
  serve->add_flag("--no-workers", no_workers, "Do not run async workers here (rp-server worker)");

  CLI::App* worker = cli.add_subcommand("worker", "Run the async workers alone (no HTTP)");
  worker->add_option("--config", config_path, "YAML config file")->check(CLI::ExistingFile);
  worker->add_option("--db", flags.db_path, "SQLite ledger path");
  worker->add_option("--mocks", flags.mocks_url, "rp-mock URL");
  worker->add_option("--seed", flags.rng_seed, "RNG seed for retry jitter (0: random)");

  int64_t since_s = 0;
  CLI::App* recon =
      cli.add_subcommand("recon", "Reconcile the ledger with the services; exit 1 on drift");
  recon->add_option("--config", config_path, "YAML config file")->check(CLI::ExistingFile);
  recon->add_option("--db", flags.db_path, "SQLite ledger path")->check(CLI::ExistingFile);
  recon->add_option("--mocks", flags.mocks_url, "rp-mock URL");
  recon->add_option("--since", since_s, "Only packets created at or after this unix time (s)");

  int64_t user = 0, count = 1, ttl_s = 86400;
  CLI::App* token = cli.add_subcommand("token", "Print bearer tokens (secret from config/env)");
  token->add_option("--config", config_path, "YAML config file")->check(CLI::ExistingFile);
  bool admin = false;
  token->add_option("--user", user, "First user id")->check(CLI::Range(int64_t{1}, INT64_MAX / 2));
  token->add_flag("--admin", admin, "Print an admin token (for /admin/*) instead");
  token->add_option("--count", count, "Users user..user+count-1, one token per line")
      ->check(CLI::Range(int64_t{1}, int64_t{1000000}));
  token->add_option("--ttl", ttl_s, "Token lifetime in seconds")
      ->check(CLI::Range(int64_t{1}, int64_t{365 * 86400}));

  std::string db_path = "rp-ledger.db";
  CLI::App* check = cli.add_subcommand("check", "Check the ledger's conservation invariant");
  check->add_option("--db", db_path, "SQLite ledger path")->check(CLI::ExistingFile);

  CLI11_PARSE(cli, argc, argv);
  if (serve->parsed()) return Serve(config_path, flags, *serve, /*worker_only=*/false);
  if (worker->parsed()) return Serve(config_path, flags, *worker, /*worker_only=*/true);
  if (recon->parsed()) return Recon(config_path, flags, *recon, since_s);
  if (token->parsed()) return Token(config_path, user, count, ttl_s, admin);
  return Check(db_path);
}
