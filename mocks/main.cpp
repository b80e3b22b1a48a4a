// rp-mock: the external services a red-packet server depends on — payment, wallet, reward
// (the B2C rain) and social — with switches that make them slow, flaky or down. See
// docs/mocks.md.
#include <pthread.h>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>
#include <stdlib.h>
#include <CLI/CLI.hpp>

#include <csignal>
#include <cstdio>
#include <iostream>

#include "common/options_cli.h"
#include "common/version/version.h"
#include "mocks/mock_server.h"

int main(int argc, char** argv) {
  spdlog::set_default_logger(spdlog::stderr_color_mt("rp-mock"));
  CLI::App cli{"rp-mock: payment, wallet, reward and social services with fault switches"};
  cli.set_version_flag("--version", rp::VersionLine("rp-mock"));
  cli.require_subcommand(1);
  rp::mock::MockConfig config;
  std::string config_path;
  CLI::App* serve = cli.add_subcommand("serve", "Run the mock services");
  serve->add_option("--port", config.port, "Listen port; 0 picks a free one")
      ->check(CLI::Range(0, 65535));
  serve->add_option("--data-dir", config.data_dir, "Where payment.db, wallet.db, reward.db live");
  serve->add_option("--seed", config.seed, "Seed of every random decision (replayable runs)");
  serve->add_option("--config", config_path, "YAML: switches, rounds, social")
      ->check(CLI::ExistingFile);
  serve->add_option("--threads", config.threads, "Handler threads")->check(CLI::Range(4, 1024));
  if (std::optional<int> rc = rp::options::ParseCommandLine(cli, argc, argv)) return *rc;

  const char* pay = std::getenv("RP_PAYMENT_SECRET");
  const char* reward = std::getenv("RP_REWARD_SECRET");
  if (pay == nullptr || reward == nullptr || std::string(pay).size() < 16 ||
      std::string(reward).size() < 16) {
    std::cerr << "rp-mock: set RP_PAYMENT_SECRET and RP_REWARD_SECRET (>= 16 bytes each)\n";
    return 2;
  }
  config.payment_secret = pay;
  config.reward_secret = reward;
  if (!config_path.empty()) {
    rp::Status s = rp::mock::LoadMockConfig(config_path, &config);
    if (!s.ok()) {
      std::cerr << "rp-mock: " << s.message() << "\n";
      return 2;
    }
  }
  if (config.data_dir.empty()) {
    char tmpl[] = "/tmp/rp-mock-XXXXXX";
    if (mkdtemp(tmpl) == nullptr) return 2;
    config.data_dir = tmpl;
  }
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  auto server = rp::mock::MockServer::Start(config);
  if (!server.ok()) {
    std::cerr << "rp-mock: " << server.status().ToString() << "\n";
    return 1;
  }
  std::printf("rp-mock listening on http://127.0.0.1:%d\n", (*server)->port());
  std::fflush(stdout);
  spdlog::info("data in {}, seed {}", config.data_dir, config.seed);
  int sig = 0;
  sigwait(&signals, &sig);
  (*server)->Stop();
  return 0;
}
