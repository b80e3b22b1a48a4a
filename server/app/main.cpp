// rp-server: the reference red-packet server. Subcommands:
//   serve   — run the HTTP server (see docs/api.md)
//   worker  — run the async workers alone, no HTTP
//   recon   — reconcile a ledger with the services; exit 1 on drift
//   token   — print bearer tokens for users (load tests, demos)
//   check   — run the conservation checker over a ledger file; exit 0 clean, 1 violated
//   config  — print every configuration key (Markdown table); --check: load a config as serve
//             would and print its effective settings (JSON)
// Exit codes (kExitHelp below, docs/api.md): 0 success, 1 a check failed or the server could not
// start, 2 bad input, 3 check/recon could not connect to the ledger or a service.
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include <pthread.h>

#include <CLI/CLI.hpp>
#include <csignal>
#include <cstdio>
#include <ctime>
#include <iostream>
#include <optional>

#include "common/crypto.h"
#include "common/ledger_engines.h"
#include "common/options_cli.h"
#include "common/redact.h"
#include "common/version/version.h"
#include "server/app/app.h"
#include "server/app/config.h"
#include "server/recon/recon.h"

namespace {

// Exit codes of every subcommand, as --help and docs/api.md say them.
constexpr int kExitBadInput = 2;
constexpr int kExitUnreachable = 3;  // check, recon: the ledger or a service did not answer.
constexpr const char* kExitHelp =
    "Exit codes: 0 success; 1 a check failed (check: violated, recon: drift) or the server could "
    "not start; 2 bad input (flags, config, a file that is not a ledger); 3 check or recon could "
    "not connect to the ledger or a service (down, refused, timed out, credentials refused).";

// What check and recon exit with when they could not finish: 3 when the ledger or a service was
// out of reach (worth retrying), 2 when the input was wrong (not worth it).
int ExitCodeOf(const rp::Status& s) {
  using rp::Error;
  const bool unreachable = s.Is(Error::kLedgerUnreachable) || s.Is(Error::kServiceUnreachable) ||
                           s.Is(Error::kConnectFailed) || s.Is(Error::kTimeout) ||
                           s.Is(Error::kStorageBusy);
  return unreachable ? kExitUnreachable : kExitBadInput;
}

// Every message that may quote a URL or a connection string goes out through here.
void PrintError(const std::string& message) {
  std::cerr << "rp-server: " << rp::RedactSecrets(message) << "\n";
}

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

// One subcommand's configuration: a registry over its own ServerConfig, its flags, its file.
struct Command {
  rp::ServerConfig config;
  rp::options::Registry registry;
  rp::ConfigSources sources;
  // flag_keys: the keys this subcommand takes as flags; all that have one when not given.
  Command(CLI::App* cmd, std::optional<std::vector<std::string>> flag_keys) {
    rp::Declare(registry, &config);
    cmd->add_option("--config", sources.file, "YAML config file (docs/api.md lists every key)")
        ->check(CLI::ExistingFile);
    rp::options::AddFlags(cmd, registry, &sources.flags,
                          flag_keys ? *flag_keys : rp::options::KeysWithFlags(registry));
  }
  bool Load() {
    rp::Status s = rp::LoadServerConfig(sources, registry, &config);
    if (!s.ok()) PrintError(s.message());
    return s.ok();
  }
  // For the tools that only read the ledger: the file and the flags, no server rules (a check
  // needs no secrets).
  bool LoadLedgerOnly() {
    rp::Status s = sources.file.empty() ? rp::Status::Ok() : registry.LoadYamlFile(sources.file);
    if (s.ok()) s = rp::options::ApplyFlags(registry, sources.flags);
    if (!s.ok()) PrintError(s.message());
    return s.ok();
  }
};

int Serve(Command& cmd, bool worker_only) {
  if (!cmd.Load()) return 2;
  sigset_t signals = BlockShutdownSignals();
  auto app = worker_only ? rp::App::StartWorker(cmd.config) : rp::App::Start(cmd.config);
  if (!app.ok()) {
    PrintError(app.status().ToString());
    return app.status().code() == rp::Code::kInvalidArgument ? 2 : 1;
  }
  if (!worker_only) {
    std::printf("rp-server listening on http://%s:%d\n", cmd.config.server.host.c_str(),
                (*app)->port());
  } else {
    const bool pg = cmd.config.ledger.engine == rp::kPostgresEngine;
    std::printf("rp-server worker running on %s\n",
                pg ? "the postgres ledger" : cmd.config.ledger.path.c_str());
  }
  std::fflush(stdout);
  int sig = 0;
  sigwait(&signals, &sig);
  spdlog::info("signal {}: draining in-flight requests", sig);
  (*app)->Stop();
  spdlog::info("stopped cleanly");
  return 0;
}

int Token(Command& cmd, int64_t user, int64_t count, int64_t ttl_s, bool admin) {
  if (!cmd.sources.file.empty()) {
    rp::Status s = cmd.registry.LoadYamlFile(cmd.sources.file);
    if (!s.ok()) {
      std::cerr << "rp-server: " << s.message() << "\n";
      return 2;
    }
  }
  cmd.registry.ApplyEnvironment();
  const std::string& secret = cmd.config.server.auth_secret;
  if (secret.size() < 16) {
    std::cerr << "rp-server: auth secret missing or shorter than 16 bytes (secrets.auth or "
                 "RP_AUTH_SECRET)\n";
    return 2;
  }
  const int64_t expires_at_s = std::time(nullptr) + ttl_s;
  if (admin) {
    std::printf("%s\n", rp::auth::MintAdminToken(secret, expires_at_s).c_str());
    return 0;
  }
  if (user < 1) {
    std::cerr << "rp-server: token needs --user ID (or --admin)\n";
    return 2;
  }
  std::string out;
  for (int64_t i = 0; i < count; ++i) {
    out += rp::auth::MintToken(secret, user + i, expires_at_s);
    out += '\n';
  }
  std::fwrite(out.data(), 1, out.size(), stdout);
  return 0;
}

int Recon(Command& cmd, int64_t since_s) {
  if (!cmd.Load()) return 2;
  if (cmd.config.downstream.wallet_url.empty()) {
    std::cerr << "rp-server: recon needs --mocks URL (or payment.url and wallet.url)\n";
    return 2;
  }
  bool clean = false;
  rp::Result<std::string> report = rp::ReconcileLedger(cmd.config, since_s * 1000, &clean);
  if (!report.ok()) {
    PrintError(report.status().ToString());
    return ExitCodeOf(report.status());
  }
  std::cout << *report;
  return clean ? 0 : 1;
}

int Check(Command& cmd) {
  if (!cmd.LoadLedgerOnly()) return 2;
  bool ok = false;
  rp::Result<std::string> report = rp::CheckLedger(cmd.config.ledger, &ok);
  if (!report.ok()) {
    PrintError(report.status().message());
    return ExitCodeOf(report.status());
  }
  std::cout << *report;
  return ok ? 0 : 1;
}

// config: the key table, or (--check) what serve would run with, without starting anything.
int Config(Command& cmd, bool check) {
  if (!check) {
    std::cout << cmd.registry.MarkdownTable();
    return 0;
  }
  if (!cmd.Load()) return kExitBadInput;
  std::cout << cmd.registry.ValuesJson() << "\n";
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  spdlog::set_default_logger(spdlog::stderr_color_mt("rp-server"));
  CLI::App cli{"rp-server: reference red-packet server (Redpacket Lab)"};
  cli.footer(kExitHelp);
  cli.set_version_flag("--version", rp::VersionLine("rp-server"));
  cli.require_subcommand(1);

  CLI::App* serve = cli.add_subcommand("serve", "Run the HTTP server");
  Command serve_cmd(serve, std::nullopt);
  CLI::App* worker = cli.add_subcommand("worker", "Run the async workers alone (no HTTP)");
  Command worker_cmd(worker, std::vector<std::string>{"ledger.engine", "ledger.path", "ledger.url",
                                                      "mocks.url", "rng.seed"});

  int64_t since_s = 0;
  CLI::App* recon =
      cli.add_subcommand("recon",
                         "Reconcile the ledger with the services; exit 0 clean, 1 drift, "
                         "2 bad input, 3 could not connect");
  Command recon_cmd(
      recon, std::vector<std::string>{"ledger.engine", "ledger.path", "ledger.url", "mocks.url"});
  recon->add_option("--since", since_s, "Only packets created at or after this unix time (s)")
      ->check(CLI::Range(int64_t{0}, rp::recon::kSinceSecondsMax)
                  .description("unix seconds up to " + std::to_string(rp::recon::kSinceSecondsMax) +
                               " (year 9999)"));

  int64_t user = 0, count = 1, ttl_s = 86400;
  bool admin = false;
  CLI::App* token = cli.add_subcommand("token", "Print bearer tokens (secret from config/env)");
  Command token_cmd(token, std::vector<std::string>{});
  token->add_option("--user", user, "First user id")->check(CLI::Range(int64_t{1}, INT64_MAX / 2));
  token->add_flag("--admin", admin, "Print an admin token (for /admin/*) instead");
  token->add_option("--count", count, "Users user..user+count-1, one token per line")
      ->check(CLI::Range(int64_t{1}, int64_t{1000000}));
  token->add_option("--ttl", ttl_s, "Token lifetime in seconds")
      ->check(CLI::Range(int64_t{1}, int64_t{365 * 86400}));

  CLI::App* check = cli.add_subcommand("check",
                                       "Check the ledger's conservation invariant; exit 0 ok, 1 "
                                       "violated, 2 bad input, 3 could not connect");
  check->footer(kExitHelp);
  recon->footer(kExitHelp);
  Command check_cmd(check, std::vector<std::string>{"ledger.engine", "ledger.path", "ledger.url"});

  bool config_check = false;
  CLI::App* config = cli.add_subcommand(
      "config",
      "Print every configuration key as Markdown; with --check, load --config FILE and the flags "
      "as serve would and print the settings they amount to (JSON), exit 0, or the first problem "
      "(file:line), exit 2");
  config->footer(kExitHelp);
  config->add_flag("--check", config_check,
                   "Check --config FILE (and the flags, the environment) with serve's own loader "
                   "instead of printing the table");
  Command config_cmd(config, std::nullopt);

  if (std::optional<int> rc = rp::options::ParseCommandLine(cli, argc, argv)) return *rc;
  if (serve->parsed()) return Serve(serve_cmd, /*worker_only=*/false);
  if (worker->parsed()) return Serve(worker_cmd, /*worker_only=*/true);
  if (recon->parsed()) return Recon(recon_cmd, since_s);
  if (token->parsed()) return Token(token_cmd, user, count, ttl_s, admin);
  if (config->parsed()) return Config(config_cmd, config_check);
  return Check(check_cmd);
}
