// The scripted core flow that `./rp demo` runs against a server (rp-sim demo): send packets,
// pay them through signed callbacks, storm them with concurrent claimers, let one expire, and
// verify every packet's money through the API. The full scenario engine is rp-sim run.
#pragma once

#include <string>

namespace rp::sim {

struct DemoOptions {
  std::string host = "127.0.0.1";
  int port = 0;
  std::string auth_secret;     // Mints user tokens (the simulator plays the users).
  std::string payment_secret;  // Signs callbacks (the simulator plays the payment service).
  std::string mocks_url;       // rp-mock: payments come from its checkout, B2C uses its rain.
  int claimers = 100;
  int expiry_wait_s_max = 30;  // How long to wait for the short-TTL packet to expire.
};

// Prints the narrative to stdout. Returns 0 when every check held, 1 otherwise.
int RunDemoFlow(const DemoOptions& options);

}  // namespace rp::sim
