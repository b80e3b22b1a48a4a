// HttpPool: a fixed set of keep-alive HTTP/1.1 connections to one server, driven by one
// Boost.Asio io_context (single-threaded: every method and every handler runs on that thread).
// Requests wait in a bounded FIFO for a free connection; a request's handler is called exactly
// once, with the response or with status 0 and why no answer came (timeout, connection refused or
// lost, the pool closed). A connection that fails is closed and reconnected before it takes more
// work, so a restarted server is picked up again; a kept-alive connection the server closed while
// it was idle is noticed before a request is written on it (and dialled again), so a restart does
// not cost the next request on each connection its answer. Latency is the caller's business: it
// knows each request's intended start.
#pragma once

#include <boost/asio.hpp>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "simulator/stats/run_stats.h"

namespace rp::sim {

struct HttpReply {
  int status = 0;  // 0: no response (transport error or timeout).
  std::string body;
  NoAnswer no_answer = NoAnswer::kNone;  // Why, when status is 0.
};
using ReplyHandler = std::function<void(HttpReply)>;

struct HttpPoolOptions {
  std::string host = "127.0.0.1";
  int port = 0;
  int connections = 64;
  size_t queue_max = 100000;  // Requests waiting for a connection; beyond it Submit fails.
  int64_t request_timeout_ms = 10000;
  int64_t reconnect_delay_ms = 50;  // After a failed connect, so a dead server is not hammered.
};

class HttpPool {
 public:
  HttpPool(boost::asio::io_context& io, HttpPoolOptions options);
  ~HttpPool();
  HttpPool(const HttpPool&) = delete;
  HttpPool& operator=(const HttpPool&) = delete;

  // Queues raw request bytes (common/http_load.h RenderRequest). False, without calling the
  // handler, when queue_max requests are already waiting (the caller's request is then
  // NoAnswer::kNotSent).
  bool Submit(std::string request, ReplyHandler handler);
  // Closes every connection; queued and in-flight requests complete with status 0.
  void Close();
  size_t queued() const { return queue_.size(); }

 private:
  class Connection;
  struct Pending {
    std::string request;
    ReplyHandler handler;
  };
  void Dispatch();

  boost::asio::io_context& io_;
  HttpPoolOptions options_;
  boost::asio::ip::tcp::endpoint endpoint_;
  std::deque<Pending> queue_;
  std::vector<std::shared_ptr<Connection>> connections_;
  std::vector<Connection*> idle_;
  bool closed_ = false;
};

}  // namespace rp::sim
