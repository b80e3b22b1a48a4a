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

namespace {

// Loads what serve runs with: the file, then the flags (whatever their order), then secrets from
// the environment, then every range and rule; the first problem printed, false.
bool LoadConfig(rp::options::Registry& registry, const std::string& path,
                const rp::options::GivenFlags& flags) {
  rp::Status s = path.empty() ? rp::Status::Ok() : registry.LoadYamlFile(path);
  if (s.ok()) s = rp::options::ApplyFlags(registry, flags);
  registry.ApplyEnvironment();
  if (s.ok()) s = registry.Validate();
  if (!s.ok()) std::cerr << "rp-mock: " << s.message() << "\n";
  return s.ok();
}

}  // namespace

int main(int argc, char** argv) {
  spdlog::set_default_logger(spdlog::stderr_color_mt("rp-mock"));
  CLI::App cli{"rp-mock: payment, wallet, reward and social services with fault switches"};
  cli.footer("Exit codes: 0 stopped cleanly; 1 could not start; 2 bad input (flags, config).");
  cli.set_version_flag("--version", rp::VersionLine("rp-mock"));
  cli.require_subcommand(1);
  rp::mock::MockConfig config;
  rp::options::Registry registry;
  rp::mock::Declare(registry, &config);
  rp::options::GivenFlags flags;
  std::string config_path;
  CLI::App* serve = cli.add_subcommand("serve", "Run the mock services");
  serve->add_option("--config", config_path, "YAML config file (`rp-mock config` lists every key)")
      ->check(CLI::ExistingFile);
  rp::options::AddFlags(serve, registry, &flags, rp::options::KeysWithFlags(registry));
  CLI::App* table = cli.add_subcommand("config", "Print every configuration key as Markdown");
  if (std::optional<int> rc = rp::options::ParseCommandLine(cli, argc, argv)) return *rc;
  if (table->parsed()) {
    std::cout << registry.MarkdownTable();
    return 0;
  }
  if (!LoadConfig(registry, config_path, flags)) return 2;
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
