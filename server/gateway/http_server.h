// HttpServer: HTTP/1.1 with keep-alive on Boost.Asio/Beast, served by a fixed pool of I/O
// threads. Each connection is a session on its own strand; the application sees a request and
// a Respond callback it may call later from any thread (asynchronous handlers never block an I/O
// thread on the ledger).
//
// Limits: body_bytes_max (a larger body gets 413 and the connection closes), header bytes (a
// larger head gets 431), connections_max (beyond it new connections are closed at once), an
// idle timeout per connection and a deadline per request once its first byte came (408).
// Framing is strict (RFC 9112): a transfer coding other than a lone `chunked` gets 501, a
// Content-Length beside a Transfer-Encoding 400, and either closes the connection, so a body
// is never read as the next request. Stop() stops accepting, lets in-flight requests finish (their
// responses carry Connection: close), closes idle connections, and returns when all are gone or the
// grace period ends.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "common/metrics/metrics.h"
#include "common/status.h"

namespace rp::gateway {

struct HttpRequest {
  std::string method;  // "GET", "POST", ...
  std::string path;    // Without the query string.
  std::string query;   // After '?', raw.
  std::string body;
  std::string authorization;  // The Authorization header, raw.
  std::string signature;      // The X-RP-Signature header, raw.
  // Runs a closure later on the thread that serves this request's connection. A handler
  // answered on another thread (the ledger writer) uses it to build its response there rather
  // than on the writer, the one thread every write waits for. Empty when the request did not
  // come over a connection (tests, fuzz targets): run the closure inline.
  std::function<void(std::function<void()>)> defer;
};

struct HttpResponse {
  int status = 200;
  std::string body;
  std::string content_type = "application/json";
  std::vector<std::pair<std::string, std::string>> headers;
};

// Must be called exactly once per request, from any thread (Stop() waits for it up to its
// grace). It holds the request's connection, whose sockets belong to the server: whoever holds
// one must call or release it before the server is destroyed (the app stops every part that
// may hold one first).
using Respond = std::function<void(HttpResponse)>;
using Handler = std::function<void(HttpRequest&&, Respond)>;

struct HttpServerOptions {
  std::string host = "127.0.0.1";
  int port = 0;
  int threads = 2;
  int64_t body_bytes_max = 64 * 1024;
  int64_t header_bytes_max = 16 * 1024;
  int64_t connections_max = 10000;
  int64_t idle_timeout_ms = 60000;
  // From a request's first byte until its body is read: a client sending its head a byte at a
  // time cannot hold a connection (and its memory) for long.
  int64_t header_timeout_ms = 10000;
};

class HttpServer {
 public:
  HttpServer(HttpServerOptions options, Handler handler);
  ~HttpServer();

  // Binds and listens (connections queue in the backlog until Run()). InvalidArgument or
  // Unavailable if the address cannot be bound.
  Status Listen();
  // Starts accepting and the I/O threads. Call once, after a successful Listen().
  void Run();
  // Runs work on an I/O thread after delay_ms (a queueing rate limit's wait: no thread is held
  // meanwhile). Stop() waits for it like any in-flight request, up to the grace period; work
  // still pending when the I/O threads end is dropped with its connection. Thread-safe.
  void RunAfter(int64_t delay_ms, std::function<void()> work);
  // The bound port (useful with port 0). Valid after a successful Listen().
  int port() const;
  // Graceful stop; see the file comment. Idempotent.
  void Stop(int64_t grace_ms);
  // What this layer refuses before a request reaches the handler, at each scrape of hub:
  // rp_http_refused_total{reason} (408, 413, 431, 400 framing and malformed, 501; one label per
  // error name, a fixed set), rp_http_connections_refused_total (past connections_max) and the
  // rp_http_connections gauge. Call before Run(); hub may outlive this server.
  void RegisterMetrics(metrics::Hub& hub);

  struct Impl;  // Defined in the .cpp; public only so the session class there can name it.

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace rp::gateway
