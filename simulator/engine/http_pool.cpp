#include <utility>  // Before Boost: asio/awaitable.hpp needs it under g++ 12 / C++20.

#include "simulator/engine/http_pool.h"

#include <sys/socket.h>

#include <array>
#include <cerrno>

#include "common/http_load.h"

namespace rp::sim {
namespace net = boost::asio;
using tcp = net::ip::tcp;

class HttpPool::Connection : public std::enable_shared_from_this<Connection> {
 public:
  Connection(HttpPool* pool) : pool_(pool), socket_(pool->io_), timer_(pool->io_) {}

  // Sends p on this connection (connecting first when needed). The connection is busy until
  // the handler has been called.
  void Run(Pending p) {
    current_ = std::move(p);
    timed_out_ = false;
    // The timeout covers connecting too: a server whose accept queue is full drops our SYNs.
    timer_.expires_after(std::chrono::milliseconds(pool_->options_.request_timeout_ms));
    // A timer that fired just as the answer came must not close the connection's next request.
    timer_.async_wait(
        [self = shared_from_this(), request = ++requests_](boost::system::error_code ec) {
          if (ec || request != self->requests_) return;
          self->timed_out_ = true;
          self->Close();  // The pending connect, read or write then fails: status 0, timed out.
        });
    if (socket_.is_open() && ClosedByPeer()) CloseSocket();
    if (socket_.is_open()) return Write();
    socket_.async_connect(pool_->endpoint_,
                          [self = shared_from_this()](boost::system::error_code ec) {
                            if (ec) return self->Fail(/*reconnect_later=*/true);
                            self->socket_.set_option(tcp::no_delay(true), ec);
                            self->Write();
                          });
  }
  void Close() {
    CloseSocket();
    timer_.cancel();
  }

 private:
  void Write() {
    net::async_write(socket_, net::buffer(current_.request),
                     [self = shared_from_this()](boost::system::error_code ec, size_t) {
                       if (ec) return self->Fail(false);
                       self->Read();
                     });
  }
  void Read() {
    socket_.async_read_some(
        net::buffer(chunk_), [self = shared_from_this()](boost::system::error_code ec, size_t n) {
          if (ec) return self->Fail(false);
          self->buffer_.append(self->chunk_.data(), n);
          int status = 0;
          size_t body_offset = 0, body_length = 0;
          const size_t size =
              rp::load::CompleteResponseSize(self->buffer_, &status, &body_offset, &body_length);
          if (size == 0) return self->Read();
          const bool close = self->buffer_.find("Connection: close") < body_offset ||
                             self->buffer_.find("connection: close") < body_offset;
          HttpReply reply{status, self->buffer_.substr(body_offset, body_length), NoAnswer::kNone};
          self->buffer_.erase(0, size);
          if (close) self->Close();
          self->Finish(std::move(reply));
        });
  }
  void CloseSocket() {
    boost::system::error_code ec;
    socket_.close(ec);
  }
  // An idle kept-alive connection the server has closed (a restart, its idle timeout) reads as
  // end of stream, a reset, or bytes nobody asked for: a request written on it would be lost.
  bool ClosedByPeer() {
    char byte = 0;
    const ssize_t n = ::recv(socket_.native_handle(), &byte, 1, MSG_PEEK | MSG_DONTWAIT);
    return n >= 0 || (errno != EAGAIN && errno != EWOULDBLOCK);
  }
  void Fail(bool reconnect_later) {
    Close();
    buffer_.clear();
    HttpReply none;
    none.no_answer = timed_out_        ? NoAnswer::kTimeout
                     : pool_->closed_  ? NoAnswer::kAbandoned
                     : reconnect_later ? NoAnswer::kConnectFailed
                                       : NoAnswer::kConnectionLost;
    if (!reconnect_later) return Finish(std::move(none));
    // Answer now, but keep this connection out of the pool for a moment.
    ReplyHandler handler = std::move(current_.handler);
    current_ = {};
    handler(std::move(none));
    timer_.expires_after(std::chrono::milliseconds(pool_->options_.reconnect_delay_ms));
    timer_.async_wait([self = shared_from_this()](boost::system::error_code) {
      self->pool_->idle_.push_back(self.get());
      self->pool_->Dispatch();
    });
  }
  void Finish(HttpReply reply) {
    timer_.cancel();
    ReplyHandler handler = std::move(current_.handler);
    current_ = {};
    pool_->idle_.push_back(this);
    handler(std::move(reply));
    pool_->Dispatch();
  }

  HttpPool* pool_;
  tcp::socket socket_;
  net::steady_timer timer_;
  Pending current_;
  uint64_t requests_ = 0;   // Requests run so far: which one a timer belongs to.
  bool timed_out_ = false;  // The current request's timer fired.
  std::string buffer_;
  std::array<char, 16384> chunk_{};
};

HttpPool::HttpPool(net::io_context& io, HttpPoolOptions options)
    : io_(io), options_(std::move(options)) {
  endpoint_ = tcp::endpoint(net::ip::make_address(options_.host),
                            static_cast<unsigned short>(options_.port));
  for (int i = 0; i < options_.connections; ++i) {
    connections_.push_back(std::make_shared<Connection>(this));
    idle_.push_back(connections_.back().get());
  }
}

HttpPool::~HttpPool() {
  Close();
}

bool HttpPool::Submit(std::string request, ReplyHandler handler) {
  if (closed_) {
    HttpReply none;
    none.no_answer = NoAnswer::kAbandoned;
    handler(std::move(none));
    return true;
  }
  if (queue_.size() >= options_.queue_max) return false;
  queue_.push_back({std::move(request), std::move(handler)});
  Dispatch();
  return true;
}

void HttpPool::Dispatch() {
  while (!closed_ && !idle_.empty() && !queue_.empty()) {
    Connection* c = idle_.back();
    idle_.pop_back();
    Pending p = std::move(queue_.front());
    queue_.pop_front();
    c->Run(std::move(p));
  }
}

void HttpPool::Close() {
  if (closed_) return;
  closed_ = true;
  for (auto& c : connections_) c->Close();
  std::deque<Pending> waiting;
  waiting.swap(queue_);
  for (Pending& p : waiting) {
    HttpReply none;
    none.no_answer = NoAnswer::kAbandoned;
    p.handler(std::move(none));
  }
}

}  // namespace rp::sim
