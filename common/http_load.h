// HttpLoad: a closed-loop HTTP/1.1 load generator on Boost.Asio (keep-alive, raw sockets,
// pre-rendered requests) for the benchmarks, and the seed of rp-sim's load engine.
// Each connection sends its next request as soon as the previous response is complete.
// Latency is measured per request from its send to its complete response.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "common/status.h"

namespace rp::load {

struct LoadOptions {
  std::string host = "127.0.0.1";
  int port = 0;
  int connections = 64;
  int64_t requests_max = 100000;   // Stop after this many responses...
  int64_t duration_ms_max = 5000;  // ...or after this long, whichever comes first.
};
// The generator runs on the calling thread: one core drives the load, the other is the server's.

// Raw request bytes for request number `seq` (0-based), e.g. from RenderRequest().
using RequestFactory = std::function<std::string(int64_t seq)>;

// Renders an HTTP/1.1 keep-alive request.
std::string RenderRequest(const std::string& method, const std::string& path,
                          const std::vector<std::pair<std::string, std::string>>& headers,
                          const std::string& body);

// The framing of one HTTP/1.1 response at the front of `buffer` (servers here always send
// Content-Length). Returns 0 while the response is incomplete; otherwise its total size in bytes,
// with *status and the body's offset and length set.
size_t CompleteResponseSize(const std::string& buffer, int* status, size_t* body_offset,
                            size_t* body_length);

struct LoadResult {
  int64_t responses = 0;
  int64_t transport_errors = 0;
  std::map<int, int64_t> by_status;
  double seconds = 0;
  std::vector<int64_t> latencies_ns;  // One per response, unsorted.

  double RequestsPerSecond() const { return seconds > 0 ? responses / seconds : 0; }
  // q in [0, 1]; sorts a copy. 0 when there are no samples.
  double LatencyMs(double q) const;
};

// Runs the load. InvalidArgument for bad options; Unavailable when no connection can be made.
Result<LoadResult> RunClosedLoop(const LoadOptions& options, const RequestFactory& make_request);

}  // namespace rp::load
