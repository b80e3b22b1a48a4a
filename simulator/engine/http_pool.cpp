#include <utility>  // Before Boost: asio/awaitable.hpp needs it under g++ 12 / C++20.

#include "simulator/engine/http_pool.h"

#include <array>

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
    if (socket_.is_open()) return Write();
    socket_.async_connect(pool_->endpoint_,
                          [self = shared_from_this()](boost::system::error_code ec) {
                            if (ec) return self->Fail(/*reconnect_later=*/true);
                            self->socket_.set_option(tcp::no_delay(true), ec);
                            self->Write();
                          });
  }
  void Close() {
    boost::system::error_code ec;
    socket_.close(ec);
    timer_.cancel();
  }

 private:
  void Write() {
    timer_.expires_after(std::chrono::milliseconds(pool_->options_.request_timeout_ms));
    timer_.async_wait([self = shared_from_this()](boost::system::error_code ec) {
      if (!ec) self->Close();  // The pending read or write then fails: status 0.
    });
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
          HttpReply reply{status, self->buffer_.substr(body_offset, body_length)};
          self->buffer_.erase(0, size);
          if (close) self->Close();
          self->Finish(std::move(reply));
        });
  }
  void Fail(bool reconnect_later) {
    Close();
    buffer_.clear();
    if (!reconnect_later) return Finish({});
    // Answer now, but keep this connection out of the pool for a moment.
    ReplyHandler handler = std::move(current_.handler);
    current_ = {};
    handler({});
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
    handler({});
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
  for (Pending& p : waiting) p.handler({});
}

}  // namespace rp::sim
