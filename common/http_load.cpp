#include <utility>  // Before Boost: asio/awaitable.hpp needs it under g++ 12 / C++20.

#include "common/http_load.h"

#include <algorithm>
#include <atomic>
#include <boost/asio.hpp>
#include <chrono>
#include <cstdlib>
#include <memory>

#include "common/clock.h"

namespace rp::load {
namespace net = boost::asio;
using tcp = net::ip::tcp;

std::string RenderRequest(const std::string& method, const std::string& path,
                          const std::vector<std::pair<std::string, std::string>>& headers,
                          const std::string& body) {
  std::string r = method + " " + path + " HTTP/1.1\r\nHost: rp\r\nConnection: keep-alive\r\n";
  for (const auto& [k, v] : headers) r += k + ": " + v + "\r\n";
  if (!body.empty() || method == "POST") {
    r +=
        "Content-Type: application/json\r\nContent-Length: " + std::to_string(body.size()) + "\r\n";
  }
  r += "\r\n" + body;
  return r;
}

size_t CompleteResponseSize(const std::string& buffer, int* status, size_t* body_offset,
                            size_t* body_length) {
  const size_t head_end = buffer.find("\r\n\r\n");
  if (head_end == std::string::npos) return 0;
  size_t cl = buffer.find("Content-Length: ");
  if (cl == std::string::npos || cl > head_end) cl = buffer.find("content-length: ");
  const size_t length = cl != std::string::npos && cl < head_end
                            ? std::strtoul(buffer.c_str() + cl + 16, nullptr, 10)
                            : 0;
  if (buffer.size() < head_end + 4 + length) return 0;
  *status = buffer.size() > 12 ? std::atoi(buffer.c_str() + 9) : 0;
  *body_offset = head_end + 4;
  *body_length = length;
  return head_end + 4 + length;
}

double LoadResult::LatencyMs(double q) const {
  if (latencies_ns.empty()) return 0;
  std::vector<int64_t> sorted = latencies_ns;
  size_t idx =
      std::min(sorted.size() - 1, static_cast<size_t>(q * static_cast<double>(sorted.size())));
  std::nth_element(sorted.begin(), sorted.begin() + static_cast<ptrdiff_t>(idx), sorted.end());
  return static_cast<double>(sorted[idx]) / 1e6;
}

namespace {

struct Shared {
  const LoadOptions* options;
  const RequestFactory* make;
  std::atomic<int64_t> next_seq{0};
  std::atomic<bool> stop{false};
  std::atomic<int> active{0};  // Connections still working; the last one out ends the run.
  net::steady_timer* deadline = nullptr;
};

// One keep-alive connection: write, read a full response (Content-Length framing), repeat.
class Conn : public std::enable_shared_from_this<Conn> {
 public:
  Conn(net::io_context& ioc, Shared* shared) : socket_(ioc), shared_(shared) {
    latencies_.reserve(4096);
  }
  // Adds this connection's counts to r. Call after the I/O threads have stopped.
  void CollectInto(LoadResult& r) const {
    r.responses += static_cast<int64_t>(latencies_.size());
    r.transport_errors += errors_;
    r.latencies_ns.insert(r.latencies_ns.end(), latencies_.begin(), latencies_.end());
    for (auto [code, n] : statuses_) r.by_status[code] += n;
  }
  void Start(const tcp::endpoint& ep) {
    ++shared_->active;
    socket_.async_connect(ep, [self = shared_from_this()](boost::system::error_code ec) {
      if (ec) return self->Fail();
      self->socket_.set_option(tcp::no_delay(true), ec);
      self->Next();
    });
  }

 private:
  void Fail() {
    ++errors_;
    Done();
  }
  void Done() {
    if (--shared_->active == 0) shared_->deadline->cancel();
  }
  void Next() {
    if (shared_->stop.load(std::memory_order_relaxed)) return Done();
    int64_t seq = shared_->next_seq.fetch_add(1);
    if (seq >= shared_->options->requests_max) return Done();
    request_ = (*shared_->make)(seq);
    sent_ns_ = MonotonicNs();
    net::async_write(socket_, net::buffer(request_),
                     [self = shared_from_this()](boost::system::error_code ec, size_t) {
                       if (ec) return self->Fail();
                       self->Read();
                     });
  }
  void Read() {
    socket_.async_read_some(net::buffer(chunk_),
                            [self = shared_from_this()](boost::system::error_code ec, size_t n) {
                              if (ec) return self->Fail();
                              self->buffer_.append(self->chunk_.data(), n);
                              if (!self->TryComplete()) return self->Read();
                              self->Next();
                            });
  }
  // True once buffer_ holds a whole response; records it and drops it from the buffer.
  bool TryComplete() {
    int status = 0;
    size_t body_offset = 0, body_length = 0;
    const size_t size = CompleteResponseSize(buffer_, &status, &body_offset, &body_length);
    if (size == 0) return false;
    latencies_.push_back(MonotonicNs() - sent_ns_);
    ++statuses_[status];
    buffer_.erase(0, size);
    return true;
  }

  tcp::socket socket_;
  Shared* shared_;
  std::string request_;
  std::string buffer_;
  std::array<char, 16384> chunk_;
  int64_t sent_ns_ = 0;
  int64_t errors_ = 0;
  std::vector<int64_t> latencies_;
  std::map<int, int64_t> statuses_;
};

}  // namespace

Result<LoadResult> RunClosedLoop(const LoadOptions& options, const RequestFactory& make) {
  if (options.connections < 1 || options.connections > 20000 || options.port <= 0) {
    return Status(Error::kBadLoadOptions, "connections 1..20000 and a port");
  }
  Shared shared;
  shared.options = &options;
  shared.make = &make;
  net::io_context ioc;
  boost::system::error_code ec;
  tcp::endpoint ep(net::ip::make_address(options.host, ec),
                   static_cast<unsigned short>(options.port));
  if (ec) return Status(Error::kBadHost, options.host);
  net::steady_timer deadline(ioc, std::chrono::milliseconds(options.duration_ms_max));
  shared.deadline = &deadline;
  deadline.async_wait([&](boost::system::error_code) {
    shared.stop = true;
    ioc.stop();  // Abandons requests in flight; only completed ones are counted.
  });
  std::vector<std::shared_ptr<Conn>> conns;
  for (int i = 0; i < options.connections; ++i) {
    conns.push_back(std::make_shared<Conn>(ioc, &shared));
    conns.back()->Start(ep);
  }
  const int64_t start_ns = MonotonicNs();
  ioc.run();
  const int64_t end_ns = MonotonicNs();
  LoadResult result;
  result.seconds = static_cast<double>(end_ns - start_ns) / 1e9;
  for (const auto& c : conns) c->CollectInto(result);
  if (result.responses == 0 && result.transport_errors > 0) {
    return Status(Error::kConnectFailed, "no response from " + options.host);
  }
  return result;
}

}  // namespace rp::load
