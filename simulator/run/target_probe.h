// Whether a --target URL is an rp-server, asked before anything else of the run (the ceiling,
// the fixtures, the load): a typo'd port or another service there would otherwise take the
// whole load at 100% errors and a verification's wait to say so. Blocking; thread-safe.
#pragma once

#include <string>

#include "common/status.h"

namespace rp::sim {

// GET /healthz must answer 200 with rp-server's JSON ({"status": "ok"}) within timeout_s (an
// rp-server whose ledger stopped taking writes answers 503, and is refused as such).
// Ok, or Status(Error::kConnectFailed / kBadAddress) whose message says what was found, like
// "http://127.0.0.1:8080 is not an rp-server: GET /healthz answered 404".
Status ProbeRpServer(const std::string& host, int port, int timeout_s = 2);

}  // namespace rp::sim
