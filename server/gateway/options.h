// The gateway's options: the HTTP listener (section `server`) and the secrets it checks
// requests with (`secrets`; from the file or the environment, never flags).
#pragma once

#include <cstdint>
#include <string>

#include "common/options.h"

namespace rp::gateway {

struct GatewayOptions {
  std::string host = "127.0.0.1";
  int port = 8080;  // 0 picks a free port.
  int threads = 2;  // HTTP I/O threads.
  int64_t body_bytes_max = 64 * 1024;
  int64_t header_bytes_max = 16 * 1024;
  int64_t connections_max = 10000;
  int64_t idle_timeout_ms = 60000;
  int64_t header_timeout_ms = 10000;  // From a request's first byte to the end of its body.
  int64_t shutdown_grace_ms = 5000;   // SIGTERM: time allowed for in-flight requests.
  std::string auth_secret;            // Bearer tokens (HMAC-SHA256).
  std::string payment_secret;         // Payment callbacks' signatures.
};

void Declare(options::Registry& r, GatewayOptions* o);

}  // namespace rp::gateway
