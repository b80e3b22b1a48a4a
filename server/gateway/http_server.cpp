#include "server/gateway/http_server.h"

#include <spdlog/spdlog.h>
#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include "common/thread_name.h"
#include "server/gateway/http_errors.h"

#include <array>
#include <atomic>
#include <chrono>
#include <mutex>
#include <optional>
#include <set>
#include <thread>

namespace rp::gateway {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = net::ip::tcp;

class Session;

// The refusals this layer makes itself, each counted under its error name. A fixed set: the
// metric's labels cannot grow with what clients send.
constexpr std::array<Error, 6> kRefusals = {Error::kRequestTimeout,
                                            Error::kHeaderTooLarge,
                                            Error::kPayloadTooLarge,
                                            Error::kAmbiguousLength,
                                            Error::kUnsupportedTransferCoding,
                                            Error::kBadHttp};

// The server's counts, shared with the metrics collector (which may outlive the server).
struct ServerCounts {
  std::array<std::atomic<int64_t>, kRefusals.size()> by_reason{};
  std::atomic<int64_t> connections_refused{0};
  std::atomic<int64_t> sessions{0};  // Open connections: bounded by connections_max.

  void Count(Error e) {
    for (size_t i = 0; i < kRefusals.size(); ++i) {
      if (kRefusals[i] == e) {
        by_reason[i].fetch_add(1, std::memory_order_relaxed);
        return;
      }
    }
    RP_CHECK(false && "a refusal outside kRefusals");
  }
};

struct HttpServer::Impl {
  HttpServerOptions options;
  Handler handler;
  net::io_context ioc;
  // The I/O threads' run() returns as soon as the io_context has no work. While draining, a
  // request answered on another thread (the ledger writer) has no operation pending on its
  // connection, and the closed acceptor none either: without this guard the threads could end
  // before its answer is posted, and the answer would never be sent. Held from Run() until
  // Stop() has waited out its grace.
  std::optional<net::executor_work_guard<net::io_context::executor_type>> keep_running;
  tcp::acceptor acceptor{ioc};
  static constexpr int64_t kAcceptRetryMs = 100;
  net::steady_timer accept_retry{ioc};
  std::vector<std::thread> threads;
  std::shared_ptr<ServerCounts> counts = std::make_shared<ServerCounts>();
  std::atomic<bool> draining{false};
  std::mutex mu;
  std::set<std::weak_ptr<Session>, std::owner_less<std::weak_ptr<Session>>> live;
  int bound_port = 0;
  bool stopped = false;

  void Accept();
};

// True when a Transfer-Encoding value is exactly one coding, chunked (Beast's own token-list
// parser: case and whitespace as RFC 9110 allows).
bool OnlyChunked(beast::string_view value) {
  const http::token_list codings{value};
  auto it = codings.begin();
  return it != codings.end() && beast::iequals(*it, "chunked") && ++it == codings.end();
}

class Session : public std::enable_shared_from_this<Session> {
 public:
  Session(tcp::socket socket, HttpServer::Impl* server)
      : stream_(std::move(socket)), server_(server) {}

  ~Session() { --server_->counts->sessions; }

  void Run() {
    net::dispatch(stream_.get_executor(), [self = shared_from_this()] { self->Read(); });
  }

  // Called on Stop(): idle connections close now, busy ones after their response.
  void Drain() {
    net::post(stream_.get_executor(), [self = shared_from_this()] {
      self->closing_ = true;
      if (!self->busy_) self->Close();
    });
  }

 private:
  // ReadHead, OnHead and OnRead are never inlined: rp-sim --exact counts a request's instructions
  // inside them (callgrind --toggle-collect needs each one's entry).

  // Waits (up to the idle timeout) for the next request's first bytes, unless pipelined ones
  // are already buffered; the request's own deadline starts with them.
  void Read() {
    if (closing_) return Close();
    if (buffer_.size() > 0) return ReadHead();
    stream_.expires_after(std::chrono::milliseconds(server_->options.idle_timeout_ms));
    stream_.async_read_some(buffer_.prepare(kFirstReadBytes),
                            [self = shared_from_this()](beast::error_code ec, size_t n) {
                              if (ec)
                                return self->Close();  // Idle too long, or the client went away.
                              self->buffer_.commit(n);
                              self->ReadHead();
                            });
  }

  // The request's deadline is a timer of our own, not the stream's: the stream closes its socket
  // when its timer fires, and a client past its deadline is owed a 408 first.
  [[gnu::noinline]] void ReadHead() {
    parser_.emplace();
    parser_->body_limit(static_cast<uint64_t>(server_->options.body_bytes_max));
    parser_->header_limit(static_cast<uint32_t>(server_->options.header_bytes_max));
    stream_.expires_never();
    timed_out_ = false;
    deadline_.expires_after(std::chrono::milliseconds(server_->options.header_timeout_ms));
    deadline_.async_wait([self = shared_from_this()](beast::error_code ec) {
      if (ec) return;  // Cancelled: the request arrived in time.
      self->timed_out_ = true;
      beast::error_code ignored;
      self->stream_.socket().cancel(ignored);  // The read completes with operation_aborted.
    });
    http::async_read_header(
        stream_, buffer_, *parser_,
        [self = shared_from_this()](beast::error_code ec, size_t) { self->OnHead(ec); });
  }

  // The head is in: refuse framing that could smuggle a request before reading any body.
  [[gnu::noinline]] void OnHead(beast::error_code ec) {
    if (ec) return OnRead(ec);
    const auto& head = parser_->get();
    const bool has_te = head.count(http::field::transfer_encoding) > 0;
    if (has_te && head.count(http::field::content_length) > 0) {
      return Refuse({Error::kAmbiguousLength,
                     "Content-Length and Transfer-Encoding together: the body's length is "
                     "ambiguous"});
    }
    if (has_te && (head.count(http::field::transfer_encoding) > 1 ||
                   !OnlyChunked(head[http::field::transfer_encoding]))) {
      return Refuse({Error::kUnsupportedTransferCoding,
                     "only Transfer-Encoding: chunked is supported (got '" +
                         std::string(head[http::field::transfer_encoding]) + "')"});
    }
    http::async_read(
        stream_, buffer_, *parser_,
        [self = shared_from_this()](beast::error_code ec2, size_t) { self->OnRead(ec2); });
  }

  void Refuse(Status why) {
    server_->counts->Count(why.err());
    deadline_.cancel();
    busy_ = true;
    keep_alive_ = false;  // Whatever follows on this connection is not trusted as a request.
    Send(ErrorResponse(why));
  }

  [[gnu::noinline]] void OnRead(beast::error_code ec) {
    deadline_.cancel();
    if (timed_out_ && ec == net::error::operation_aborted) {
      return Refuse(
          {Error::kRequestTimeout, "the request did not arrive within " +
                                       std::to_string(server_->options.header_timeout_ms) + " ms"});
    }
    if (ec == http::error::end_of_stream || ec == net::error::operation_aborted ||
        ec == net::error::connection_reset || ec == net::error::eof) {
      return Close();
    }
    if (ec == http::error::body_limit) {
      return Refuse(
          {Error::kPayloadTooLarge,
           "the body exceeds " + std::to_string(server_->options.body_bytes_max) + " bytes"});
    }
    if (ec == http::error::header_limit) {
      return Refuse({Error::kHeaderTooLarge, "the request line and headers exceed " +
                                                 std::to_string(server_->options.header_bytes_max) +
                                                 " bytes"});
    }
    if (ec) return Refuse({Error::kBadHttp, "malformed HTTP request: " + ec.message()});
    busy_ = true;
    http::request<http::string_body> req = parser_->release();
    keep_alive_ = req.keep_alive();
    version_ = req.version();
    HttpRequest r;
    r.method = std::string(req.method_string());
    std::string target(req.target());
    size_t q = target.find('?');
    r.path = target.substr(0, q);
    if (q != std::string::npos) r.query = target.substr(q + 1);
    r.body = std::move(req.body());
    r.authorization = std::string(req[http::field::authorization]);
    r.signature = std::string(req["X-RP-Signature"]);
    auto self = shared_from_this();
    r.defer = [self](std::function<void()> fn) {
      net::post(self->stream_.get_executor(), std::move(fn));
    };
    // dispatch: an answer given on this connection's strand (every synchronous route, and a
    // deferred one) is sent at once; one given on another thread is posted to the strand.
    server_->handler(std::move(r), [self](HttpResponse resp) {
      net::dispatch(self->stream_.get_executor(),
                    [self, resp = std::move(resp)]() mutable { self->Send(std::move(resp)); });
    });
  }

  void Send(HttpResponse resp) {
    auto res = std::make_shared<http::response<http::string_body>>(
        static_cast<http::status>(resp.status), version_);
    res->set(http::field::server, "rp-server");
    res->set(http::field::content_type, resp.content_type);
    for (auto& [k, v] : resp.headers) res->set(k, v);
    res->keep_alive(keep_alive_ && !closing_);
    res->body() = std::move(resp.body);
    res->prepare_payload();
    // A client that does not read its answer cannot hold the connection for ever either.
    stream_.expires_after(std::chrono::milliseconds(server_->options.header_timeout_ms));
    http::async_write(stream_, *res,
                      [self = shared_from_this(), res](beast::error_code ec, size_t) {
                        self->busy_ = false;
                        if (ec || !res->keep_alive()) return self->Close();
                        self->Read();
                      });
  }

  void Close() {
    deadline_.cancel();
    beast::error_code ignored;
    stream_.socket().shutdown(tcp::socket::shutdown_both, ignored);
    stream_.close();
  }

  static constexpr size_t kFirstReadBytes = 4096;  // The buffer grows up to the head limit.
  beast::tcp_stream stream_;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  HttpServer::Impl* server_;
  net::steady_timer deadline_{stream_.get_executor()};  // The request's; see ReadHead.
  bool timed_out_ = false;
  bool busy_ = false;
  bool closing_ = false;
  bool keep_alive_ = true;
  unsigned version_ = 11;
};

void HttpServer::Impl::Accept() {
  acceptor.async_accept(net::make_strand(ioc), [this](beast::error_code ec, tcp::socket socket) {
    if (ec) {
      if (ec == net::error::operation_aborted || !acceptor.is_open()) return;
      // Out of descriptors (EMFILE) fails every accept at once: retrying at once would spin a
      // core and flood the log while the backlog waits; retry a little later instead.
      spdlog::warn("accept failed: {}; retrying in {} ms", ec.message(), kAcceptRetryMs);
      accept_retry.expires_after(std::chrono::milliseconds(kAcceptRetryMs));
      accept_retry.async_wait([this](beast::error_code wait_ec) {
        if (!wait_ec) Accept();
      });
      return;
    }
    if (draining || counts->sessions.load() >= options.connections_max) {
      if (!draining) counts->connections_refused.fetch_add(1, std::memory_order_relaxed);
      beast::error_code ignored;
      socket.close(ignored);
      return Accept();
    }
    socket.set_option(tcp::no_delay(true), ec);
    ++counts->sessions;
    auto session = std::make_shared<Session>(std::move(socket), this);
    {
      std::lock_guard<std::mutex> lock(mu);
      // Stop() sets draining and lists the sessions to drain under this lock: one accepted
      // past that point would never be told to drain, and Stop() would wait its whole grace
      // for it. Dropped here instead (its socket closes with it).
      if (draining) return;
      for (auto it = live.begin(); it != live.end();) {
        it = it->expired() ? live.erase(it) : std::next(it);
        if (live.size() < 1024) break;  // Amortised clean-up; bounded work per accept.
      }
      live.insert(session);
    }
    session->Run();
    Accept();
  });
}

HttpServer::HttpServer(HttpServerOptions options, Handler handler)
    : impl_(std::make_unique<Impl>()) {
  impl_->options = std::move(options);
  impl_->handler = std::move(handler);
}

HttpServer::~HttpServer() {
  Stop(0);
}

Status HttpServer::Listen() {
  beast::error_code ec;
  auto address = net::ip::make_address(impl_->options.host, ec);
  if (ec) return Status(Error::kBadAddress, "cannot parse host " + impl_->options.host);
  tcp::endpoint endpoint(address, static_cast<unsigned short>(impl_->options.port));
  auto& acc = impl_->acceptor;
  acc.open(endpoint.protocol(), ec);
  if (!ec) acc.set_option(net::socket_base::reuse_address(true), ec);
  if (!ec) acc.bind(endpoint, ec);
  if (!ec) acc.listen(net::socket_base::max_listen_connections, ec);
  if (ec) {
    return Status(Error::kBindFailed, "cannot listen on " + impl_->options.host + ":" +
                                          std::to_string(impl_->options.port) + ": " +
                                          ec.message());
  }
  impl_->bound_port = acc.local_endpoint().port();
  return Status::Ok();
}

void HttpServer::Run() {
  impl_->keep_running.emplace(impl_->ioc.get_executor());
  impl_->Accept();
  for (int i = 0; i < impl_->options.threads; ++i) {
    impl_->threads.push_back(
        NamedThread("rp-http-" + std::to_string(i), [this] { impl_->ioc.run(); }));
  }
}

void HttpServer::RunAfter(int64_t delay_ms, std::function<void()> work) {
  auto timer = std::make_shared<net::steady_timer>(impl_->ioc, std::chrono::milliseconds(delay_ms));
  timer->async_wait([timer, work = std::move(work)](const boost::system::error_code&) { work(); });
}

int HttpServer::port() const {
  return impl_->bound_port;
}

void HttpServer::Stop(int64_t grace_ms) {
  if (impl_->stopped) return;
  impl_->stopped = true;
  net::post(impl_->ioc, [this] {
    beast::error_code ignored;
    impl_->acceptor.close(ignored);
    impl_->accept_retry.cancel();
  });
  std::vector<std::shared_ptr<Session>> sessions;
  {
    std::lock_guard<std::mutex> lock(impl_->mu);
    impl_->draining = true;  // Under mu: see the accept handler.
    for (auto& weak : impl_->live) {
      if (auto s = weak.lock()) sessions.push_back(std::move(s));
    }
  }
  for (auto& s : sessions) s->Drain();
  sessions.clear();
  auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(grace_ms);
  while (impl_->counts->sessions.load() > 0 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  // Said, because the wait is a whole grace long: a restart that took seconds shows why.
  if (const int64_t open = impl_->counts->sessions.load(); open > 0) {
    spdlog::warn(
        "shutdown: {} connection(s) still open after server.shutdown_grace_ms = {} ms; "
        "closing them",
        open, grace_ms);
  }
  impl_->keep_running.reset();
  impl_->ioc.stop();
  for (auto& t : impl_->threads) {
    if (t.joinable()) t.join();
  }
}

void HttpServer::RegisterMetrics(metrics::Hub& hub) {
  std::shared_ptr<ServerCounts> counts = impl_->counts;
  hub.AddCollector([counts](metrics::Writer& w) {
    for (size_t i = 0; i < kRefusals.size(); ++i) {
      w.Counter("rp_http_refused_total",
                "Requests the HTTP layer refused before routing (slow, oversized, badly framed)",
                static_cast<double>(counts->by_reason[i].load()),
                {{"reason", std::string(ErrorName(kRefusals[i]))}});
    }
    w.Counter("rp_http_connections_refused_total",
              "Connections closed unanswered at server.connections_max",
              static_cast<double>(counts->connections_refused.load()));
    w.Gauge("rp_http_connections", "Open client connections",
            static_cast<double>(counts->sessions.load()));
  });
}

}  // namespace rp::gateway
