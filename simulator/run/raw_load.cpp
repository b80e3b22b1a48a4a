#include <utility>  // Before Boost: asio/awaitable.hpp needs it under g++ 12 / C++20.

#include <cstdio>
#include <cstdlib>
#include <functional>

#include "common/clock.h"
#include "common/http_load.h"
#include "common/redact.h"
#include "simulator/engine/http_pool.h"
#include "simulator/run/run.h"
#include "simulator/stats/run_stats.h"

namespace rp::sim {

int RunRawLoad(const RawLoadOptions& o) {
  HttpPoolOptions po;
  if (!ParseHttpUrl(o.target, &po.host, &po.port)) {
    std::fprintf(stderr, "rp-sim: --target must look like http://HOST:PORT\n");
    return 2;
  }
  boost::asio::io_context io(1);
  po.connections = o.connections;
  HttpPool pool(io, po);
  RunStats stats;
  const std::string request = load::RenderRequest("GET", o.path, {}, "");
  const int64_t start_ns = MonotonicNs();
  const int64_t end_ns = start_ns + o.duration_s * 1'000'000'000;
  std::function<void()> next = [&] {
    const int64_t intended = MonotonicNs();
    if (intended >= end_ns) return;
    pool.Submit(request, [&, intended](HttpReply r) {
      const int64_t now = MonotonicNs();
      stats.Record("get", (now - start_ns) / 1'000'000'000, r.status, (now - intended) / 1000);
      next();
    });
  };
  for (int i = 0; i < o.connections; ++i) next();
  io.run();
  const double seconds = static_cast<double>(MonotonicNs() - start_ns) / 1e9;
  auto it = stats.ops().find("get");
  if (it == stats.ops().end()) return 2;
  const OpStats& s = it->second;
  std::printf(
      "rp-sim load %s%s: %d connections, %.1f s: %.0f req/s, p50 %.3f ms, p99 %.3f ms, "
      "errors %lld\n",
      RedactSecrets(o.target).c_str(), o.path.c_str(), o.connections, seconds,
      static_cast<double>(s.requests) / seconds, s.latency.ValueAtQuantile(0.5) / 1000.0,
      s.latency.ValueAtQuantile(0.99) / 1000.0, static_cast<long long>(s.errors));
  return s.errors == 0 ? 0 : 1;
}

}  // namespace rp::sim
