// rp-sim: the Redpacket Lab traffic simulator. Today it runs the scripted core flow
// (`rp-sim demo`); scenario files, load phases and fault timelines arrive with issue 5.
#include <CLI/CLI.hpp>

#include <cstdlib>
#include <iostream>

#include "simulator/demo_flow.h"

int main(int argc, char** argv) {
  CLI::App cli{"rp-sim: Redpacket Lab traffic simulator"};
  cli.require_subcommand(1);
  rp::sim::DemoOptions options;
  std::string target;
  CLI::App* demo = cli.add_subcommand("demo", "Run the scripted core flow against a server");
  demo->add_option("--target", target, "Server URL, e.g. http://127.0.0.1:8080")->required();
  demo->add_option("--mocks", options.mocks_url,
                   "rp-mock URL the server uses (enables B2C, recon)");
  demo->add_option("--claimers", options.claimers, "Concurrent claimers per packet")
      ->check(CLI::Range(1, 1000));
  demo->add_option("--expiry-wait", options.expiry_wait_s_max, "Seconds to wait for expiry")
      ->check(CLI::Range(1, 3600));
  CLI11_PARSE(cli, argc, argv);

  const std::string prefix = "http://";
  size_t colon = target.rfind(':');
  if (target.rfind(prefix, 0) != 0 || colon == std::string::npos || colon < prefix.size()) {
    std::cerr << "rp-sim: --target must look like http://HOST:PORT\n";
    return 2;
  }
  options.host = target.substr(prefix.size(), colon - prefix.size());
  options.port = std::atoi(target.c_str() + colon + 1);
  const char* auth = std::getenv("RP_AUTH_SECRET");
  const char* pay = std::getenv("RP_PAYMENT_SECRET");
  if (!auth || !pay || options.port <= 0) {
    std::cerr << "rp-sim: needs RP_AUTH_SECRET and RP_PAYMENT_SECRET (the server's secrets) and a "
                 "port in --target\n";
    return 2;
  }
  options.auth_secret = auth;
  options.payment_secret = pay;
  return rp::sim::RunDemoFlow(options);
}
