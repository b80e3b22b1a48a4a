// The HTTP layer against hostile and broken clients, over raw sockets (no client library that
// would tidy the bytes up): request smuggling through transfer codings and conflicting
// lengths, broken chunking, oversized request lines and headers, pipelining, a client that
// sends its head a byte at a time, one that never finishes it, and a thousand idle
// connections — each answered with the right status (or closed), none delaying a good client.
#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <future>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "common/crypto.h"
#include "server/gateway/http_server.h"
#include "tests/support/harness.h"

namespace rp::testing {
namespace {

// One raw TCP connection to the server under test.
class Raw {
 public:
  explicit Raw(int port) {
    fd_ = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = htons(static_cast<uint16_t>(port));
    connected_ = connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
  }
  ~Raw() {
    if (fd_ >= 0) close(fd_);
  }
  bool connected() const { return connected_; }
  bool Send(const std::string& bytes) {
    return send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL) ==
           static_cast<ssize_t>(bytes.size());
  }
  // Everything the server sends until it closes or wait_ms passes without a byte.
  std::string ReadAll(int wait_ms = 3000) {
    std::string out;
    char buf[4096];
    for (;;) {
      pollfd p{fd_, POLLIN, 0};
      if (poll(&p, 1, wait_ms) <= 0) break;
      const ssize_t n = recv(fd_, buf, sizeof buf, 0);
      if (n <= 0) {
        closed_ = true;
        break;
      }
      out.append(buf, static_cast<size_t>(n));
    }
    return out;
  }
  bool closed() const { return closed_; }

 private:
  int fd_ = -1;
  bool connected_ = false;
  bool closed_ = false;
};

int Count(const std::string& haystack, const std::string& needle) {
  int n = 0;
  for (size_t at = haystack.find(needle); at != std::string::npos;
       at = haystack.find(needle, at + 1)) {
    ++n;
  }
  return n;
}

// The value of one series in the server's /metrics ("name{labels}" as written); -1 if absent.
double Scraped(int port, const std::string& series) {
  Client c(port);
  const std::string text = c.Get("/metrics", 0).raw;
  const size_t at = text.find("\n" + series + " ");
  if (at == std::string::npos) return -1;
  return std::strtod(text.c_str() + at + series.size() + 2, nullptr);
}

class HttpHostileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ServerConfig config = TestConfig(dir_);
    config.server.header_timeout_ms = 1000;  // Short, so the test of it is short.
    config.server.idle_timeout_ms = 60000;
    server_ = std::make_unique<InProcessServer>(config);
    ASSERT_NE(server_->port, 0);
  }
  // A request that needs no body and no state: the answer proves the connection still works.
  static std::string Healthz() { return "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"; }

  TempDir dir_;
  std::unique_ptr<InProcessServer> server_;
};

// RFC 9112 §6.1: a transfer coding the server does not understand is refused (501), and the
// body is not read as the next request — the smuggled request must never be answered.
TEST_F(HttpHostileTest, UnknownTransferCodingIsRefusedAndNothingIsSmuggled) {
  Raw c(server_->port);
  ASSERT_TRUE(c.connected());
  const std::string smuggled = "GET /v1/packets/1 HTTP/1.1\r\nHost: x\r\n\r\n";
  ASSERT_TRUE(
      c.Send("POST /v1/packets HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip\r\n\r\n" + smuggled));
  const std::string got = c.ReadAll();
  EXPECT_EQ(got.rfind("HTTP/1.1 501", 0), 0u) << got;
  EXPECT_NE(got.find("unsupported_transfer_coding"), std::string::npos) << got;
  EXPECT_EQ(Count(got, "HTTP/1.1 "), 1) << "the body was answered as a request: " << got;
  EXPECT_TRUE(c.closed());
  for (const char* coding : {"gzip, chunked", "chunked, gzip", "identity", "chunked, chunked"}) {
    Raw d(server_->port);
    ASSERT_TRUE(d.Send(std::string("POST /v1/packets HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: ") +
                       coding + "\r\n\r\n0\r\n\r\n"));
    const std::string answer = d.ReadAll();
    EXPECT_EQ(answer.rfind("HTTP/1.1 501", 0), 0u) << coding << ": " << answer;
  }
  // Each refusal is counted under its reason, before any route sees it.
  EXPECT_EQ(Scraped(server_->port, "rp_http_refused_total{reason=\"unsupported_transfer_coding\"}"),
            5);
  EXPECT_EQ(Scraped(server_->port, "rp_http_refused_total{reason=\"bad_http\"}"), 0);
}

// Content-Length beside Transfer-Encoding (the classic smuggling pair) and two different
// Content-Lengths: 400 and the connection closes.
TEST_F(HttpHostileTest, AmbiguousLengthsAreRefusedAndTheConnectionCloses) {
  {
    Raw c(server_->port);
    ASSERT_TRUE(
        c.Send("POST /v1/packets HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\n"
               "Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n" +
               Healthz()));
    const std::string got = c.ReadAll();
    EXPECT_EQ(got.rfind("HTTP/1.1 400", 0), 0u) << got;
    EXPECT_EQ(Count(got, "HTTP/1.1 "), 1) << got;
    EXPECT_TRUE(c.closed());
  }
  {
    Raw c(server_->port);
    ASSERT_TRUE(
        c.Send("POST /v1/packets HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n"
               "Content-Length: 3\r\n\r\n{}x"));
    const std::string got = c.ReadAll();
    EXPECT_EQ(got.rfind("HTTP/1.1 400", 0), 0u) << got;
    EXPECT_TRUE(c.closed());
  }
}

TEST_F(HttpHostileTest, BrokenChunkingIsA400AndAGoodChunkedBodyIsRead) {
  {
    Raw c(server_->port);
    ASSERT_TRUE(
        c.Send("POST /v1/packets HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
               "zz\r\n{}\r\n0\r\n\r\n"));
    const std::string got = c.ReadAll();
    EXPECT_EQ(got.rfind("HTTP/1.1 400", 0), 0u) << got;
    EXPECT_NE(got.find("bad_http"), std::string::npos) << got;
  }
  {
    // A well-formed chunked body reaches the route (401: no token), and the connection lives.
    Raw c(server_->port);
    ASSERT_TRUE(
        c.Send("POST /v1/packets HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
               "2\r\n{}\r\n0\r\n\r\n" +
               Healthz()));
    const std::string got = c.ReadAll(1500);
    EXPECT_EQ(got.rfind("HTTP/1.1 401", 0), 0u) << got;
    EXPECT_EQ(Count(got, "HTTP/1.1 "), 2) << got;
  }
}

// A request line or headers beyond server.header_bytes_max: 431, closed.
TEST_F(HttpHostileTest, OversizedRequestLineAndHeadersAre431) {
  const std::string big(20 * 1024, 'a');  // Above the 16 KiB default.
  for (const std::string& request :
       {"GET /" + big + " HTTP/1.1\r\nHost: x\r\n\r\n",
        "GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: " + big + "\r\n\r\n"}) {
    Raw c(server_->port);
    ASSERT_TRUE(c.Send(request));
    const std::string got = c.ReadAll();
    EXPECT_EQ(got.rfind("HTTP/1.1 431", 0), 0u) << got.substr(0, 200);
    EXPECT_NE(got.find("header_too_large"), std::string::npos) << got.substr(0, 200);
    EXPECT_TRUE(c.closed());
  }
  EXPECT_EQ(Scraped(server_->port, "rp_http_refused_total{reason=\"header_too_large\"}"), 2);
}

TEST_F(HttpHostileTest, PipelinedRequestsAreAnsweredInOrder) {
  Raw c(server_->port);
  ASSERT_TRUE(c.Send(Healthz() + "GET /v1/packets/1 HTTP/1.1\r\nHost: x\r\n\r\n" + Healthz()));
  const std::string got = c.ReadAll(1500);
  ASSERT_EQ(Count(got, "HTTP/1.1 "), 3) << got;
  const size_t first = got.find("HTTP/1.1 200"), second = got.find("HTTP/1.1 401");
  const size_t third = got.find("HTTP/1.1 200", first + 1);
  EXPECT_LT(first, second);
  EXPECT_LT(second, third);
  EXPECT_NE(third, std::string::npos);
}

// A client that sends its head a byte at a time holds nobody else up (others are answered while
// it dribbles) and is itself served when its head completes in time; one that stops halfway is
// answered 408 and closed after server.header_timeout_ms, whatever the idle timeout.
TEST_F(HttpHostileTest, ASlowClientDelaysNoOneAndAnUnfinishedHeadTimesOut) {
  Raw slow(server_->port);
  ASSERT_TRUE(slow.connected());
  std::atomic<bool> dribbling{true};
  std::thread dribble([&] {
    const std::string head = Healthz();  // 34 bytes over ~0.7 s, inside the 1 s deadline.
    for (char ch : head) {
      if (!slow.Send(std::string(1, ch))) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    dribbling = false;
  });
  int answered_meanwhile = 0;
  while (dribbling) {
    Raw good(server_->port);
    ASSERT_TRUE(good.Send("GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"));
    const std::string got = good.ReadAll();  // Returns when the server closes.
    EXPECT_EQ(got.rfind("HTTP/1.1 200", 0), 0u) << got;
    answered_meanwhile += dribbling ? 1 : 0;
  }
  dribble.join();
  EXPECT_GT(answered_meanwhile, 0);
  EXPECT_EQ(slow.ReadAll(1000).rfind("HTTP/1.1 200", 0), 0u);

  Raw stalled(server_->port);
  ASSERT_TRUE(stalled.Send("GET /healthz HTTP/1.1\r\nHost: x\r\nX-Half: "));
  const std::string got = stalled.ReadAll(5000);
  EXPECT_EQ(got.rfind("HTTP/1.1 408", 0), 0u) << got;
  EXPECT_NE(got.find("request_timeout"), std::string::npos) << got;
  EXPECT_TRUE(stalled.closed());
  EXPECT_EQ(Scraped(server_->port, "rp_http_refused_total{reason=\"request_timeout\"}"), 1);
}

// A thousand connections that open and say nothing: a new client is still served, and
// server.connections_max bounds them (one past it is closed without an answer).
TEST(HttpLimits, IdleConnectionsAreBoundedAndDelayNoOne) {
  // Both ends of every connection live in this process: raise the soft descriptor limit to the
  // hard one, and open fewer connections where even that is small.
  rlimit fds{};
  getrlimit(RLIMIT_NOFILE, &fds);
  fds.rlim_cur = fds.rlim_max;
  setrlimit(RLIMIT_NOFILE, &fds);
  const int bound = static_cast<int>(std::min<rlim_t>(1000, (fds.rlim_cur - 200) / 2));
  ASSERT_GT(bound, 100) << "descriptor limit " << fds.rlim_cur;
  TempDir dir;
  ServerConfig config = TestConfig(dir);
  config.server.connections_max = bound;
  InProcessServer server(config);
  ASSERT_NE(server.port, 0);
  std::vector<std::unique_ptr<Raw>> idle;
  for (int i = 0; i < bound - 1; ++i) {
    idle.push_back(std::make_unique<Raw>(server.port));
    ASSERT_TRUE(idle.back()->connected()) << i;
  }
  // The last connection within the bound is served (retried: the server counts a connection
  // from its accept, which is asynchronous, until its session is gone).
  std::unique_ptr<Raw> last;
  ASSERT_TRUE(Eventually([&] {
    last = std::make_unique<Raw>(server.port);
    last->Send("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n");
    return last->ReadAll(1000).rfind("HTTP/1.1 200", 0) == 0;
  }));
  Raw over(server.port);  // One past the bound: closed at once, nothing read.
  over.Send("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n");
  EXPECT_EQ(over.ReadAll(1000), "");
  EXPECT_TRUE(over.closed());
  idle.clear();
  // Counted (the scrape itself must wait for a free slot, as any new client does).
  EXPECT_TRUE(Eventually([&] {
    return Scraped(server.port, "rp_http_connections_refused_total") >= 1;
  }));  // Gone: a new client is served again.
  EXPECT_TRUE(Eventually([&] {
    Raw c(server.port);
    c.Send("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n");
    return c.ReadAll(500).rfind("HTTP/1.1 200", 0) == 0;
  }));
}

// A request answered from another thread while the server drains (a claim the ledger writer
// commits during a restart) is still answered. Once idle connections are closed and the
// acceptor is shut, the waiting request has no I/O pending: I/O threads that ended as soon as
// they ran out of work never sent its answer, and Stop() waited its whole grace.
TEST(HttpDrain, AnAnswerGivenOnAnotherThreadDuringStopIsSent) {
  std::mutex mu;
  gateway::Respond later;
  std::promise<void> held;
  gateway::HttpServer server({}, [&](gateway::HttpRequest&& req, gateway::Respond respond) {
    if (req.path != "/later") return respond({200, "now", "text/plain", {}});
    std::lock_guard<std::mutex> lock(mu);
    later = std::move(respond);
    held.set_value();
  });
  ASSERT_TRUE(server.Listen().ok());
  server.Run();
  Raw idle(server.port());
  ASSERT_TRUE(idle.Send("GET /now HTTP/1.1\r\nHost: x\r\n\r\n"));
  ASSERT_EQ(idle.ReadAll(500).rfind("HTTP/1.1 200", 0), 0u);  // Now idle, kept alive.
  Raw busy(server.port());
  ASSERT_TRUE(busy.Send("GET /later HTTP/1.1\r\nHost: x\r\n\r\n"));
  held.get_future().wait();
  std::thread stop([&] { server.Stop(/*grace_ms=*/5000); });
  EXPECT_EQ(idle.ReadAll(2000), "");  // The drain closed the idle connection...
  ASSERT_TRUE(idle.closed());
  // ...after which a server whose I/O threads end with their work needs only a moment to end
  // them; this wait gives it that moment (a correct server passes however long it is).
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  {
    std::lock_guard<std::mutex> lock(mu);
    later({200, "late", "text/plain", {}});
    later = nullptr;  // It holds the connection, which must not outlive the server.
  }
  const std::string answer = busy.ReadAll(2000);
  EXPECT_EQ(answer.rfind("HTTP/1.1 200", 0), 0u) << answer;
  EXPECT_NE(answer.find("Connection: close"), std::string::npos) << answer;
  EXPECT_NE(answer.find("\r\n\r\nlate"), std::string::npos) << answer;
  stop.join();
}

}  // namespace
}  // namespace rp::testing
