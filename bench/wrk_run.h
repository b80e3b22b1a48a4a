// wrk (a client nobody here wrote) driving an rp-server, so that rp-bench's own generator is not
// the only witness of a figure. Claims use bearer tokens minted before the run: wrk sends bytes
// prepared in advance and does no HMAC, so the client's cost per request is as low as /healthz's.
// Not thread-safe: one run at a time, from main()'s thread.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "common/status.h"

namespace rp::bench {

struct WrkResult {
  int64_t requests = 0;       // Responses wrk read in the run.
  int64_t non_2xx = 0;        // Of those, statuses outside 200-399.
  int64_t socket_errors = 0;  // connect, read, write and timeout errors together.
  double seconds = 0;
  double p50_ms = 0, p99_ms = 0;
  double RequestsPerSecond() const { return seconds > 0 ? requests / seconds : 0; }
};

// One claim request: POST /v1/packets/{packet_id}/claims as user_id.
struct WrkClaim {
  int64_t packet_id = 0;
  int64_t user_id = 0;
};

// Whether /usr/bin/wrk is there (Debian's `wrk`, installed by ./rp setup).
bool WrkInstalled();

// GET `path` over `connections` keep-alive connections for `seconds` (one wrk thread).
// An error when wrk cannot run or its report cannot be read; the message says why.
[[nodiscard]] Result<WrkResult> RunWrkGet(int port, const std::string& path, int connections,
                                          int seconds);

// The claims in order, each once (wrk's Lua script walks the list). `dir` is a folder the
// caller owns for the token file and the script. An error too when wrk got (within one request
// per connection) to the end of the list: it then repeats the last claim, which answers as a
// replay, so the figure would no longer count only new claims.
[[nodiscard]] Result<WrkResult> RunWrkClaims(int port, const std::vector<WrkClaim>& claims,
                                             const std::string& auth_secret, const std::string& dir,
                                             int connections, int seconds);

// Parses the report wrk prints with --latency.
[[nodiscard]] Result<WrkResult> ParseWrkReport(const std::string& text);

}  // namespace rp::bench
