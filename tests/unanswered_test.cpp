// Requests that get no answer: the client pool says why (a timeout against a listener that
// accepts and never answers, a refused connection, a connection closed mid-request, the pool
// closed with requests in flight, a proxy's 502/504), a kept-alive connection the server closed
// while idle is dialled again instead of losing the next request, and the plan check
// `unanswered == 0` — or `<= budget` with a fault's or a phase's budget — counts them per
// operation, cause, phase and fault window exactly.
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <mutex>
#include <thread>
#include <vector>

#include "common/http_load.h"
#include "simulator/checks/unanswered.h"
#include "simulator/engine/http_pool.h"
#include "simulator/scenario/scenario.h"
#include "tests/support/harness.h"

namespace rp::sim {
namespace {

// A loopback TCP listener on a free port whose accepted connections do one thing each.
class Listener {
 public:
  enum class Mode { kHold, kCloseAfterRead, kAnswerThenClose };
  explicit Listener(Mode mode) : mode_(mode) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof addr;
    if (::bind(fd_, reinterpret_cast<sockaddr*>(&addr), len) != 0 || ::listen(fd_, 16) != 0 ||
        ::getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
      ADD_FAILURE() << "cannot listen on loopback";
      return;
    }
    port_ = ntohs(addr.sin_port);
    thread_ = std::thread([this] { Loop(); });
  }
  ~Listener() {
    ::shutdown(fd_, SHUT_RDWR);
    ::close(fd_);
    if (thread_.joinable()) thread_.join();
    std::lock_guard<std::mutex> lock(mu_);
    for (int held : held_) ::close(held);
  }
  int port() const { return port_; }
  int closed() const { return closed_.load(); }

 private:
  void Loop() {
    for (;;) {
      const int c = ::accept(fd_, nullptr, nullptr);
      if (c < 0) return;  // The listener was shut down.
      if (mode_ == Mode::kHold) {
        std::lock_guard<std::mutex> lock(mu_);
        held_.push_back(c);  // Accepted, read by nobody, never answered.
        continue;
      }
      std::string head;
      char buf[4096];
      while (head.find("\r\n\r\n") == std::string::npos) {
        const ssize_t n = ::read(c, buf, sizeof buf);
        if (n <= 0) break;
        head.append(buf, static_cast<size_t>(n));
      }
      if (mode_ == Mode::kAnswerThenClose) {
        // Kept alive as far as the client can tell (no Connection: close), then closed idle.
        const std::string answer = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok";
        (void)!::write(c, answer.data(), answer.size());  // A short write is the client's to see.
      }
      ::close(c);
      ++closed_;
    }
  }
  Mode mode_;
  int fd_ = -1;
  int port_ = 0;
  std::thread thread_;
  std::mutex mu_;
  std::vector<int> held_;
  std::atomic<int> closed_{0};
};

// One request through a fresh pool of one connection; the reply it got.
HttpReply Ask(int port, int64_t timeout_ms = 300) {
  boost::asio::io_context io;
  HttpPool pool(io, {"127.0.0.1", port, 1, 10, timeout_ms, 50});
  HttpReply got;
  got.status = -1;
  pool.Submit(load::RenderRequest("GET", "/healthz", {}, ""), [&](HttpReply r) { got = r; });
  io.run();
  return got;
}

TEST(HttpPoolNoAnswer, EachWayOfGettingNoAnswerIsNamed) {
  {
    Listener hold(Listener::Mode::kHold);  // A wedged server: accepts and never answers.
    HttpReply r = Ask(hold.port());
    EXPECT_EQ(r.status, 0);
    EXPECT_EQ(r.no_answer, NoAnswer::kTimeout);
  }
  {
    Listener closes(Listener::Mode::kCloseAfterRead);  // A crash mid-request.
    HttpReply r = Ask(closes.port());
    EXPECT_EQ(r.status, 0);
    EXPECT_EQ(r.no_answer, NoAnswer::kConnectionLost);
  }
  int free_port = 0;
  {
    Listener gone(Listener::Mode::kHold);
    free_port = gone.port();
  }
  HttpReply refused = Ask(free_port);  // Nothing listens there any more.
  EXPECT_EQ(refused.status, 0);
  EXPECT_EQ(refused.no_answer, NoAnswer::kConnectFailed);

  Listener hold(Listener::Mode::kHold);  // The load's drain deadline closes the pool.
  boost::asio::io_context io;
  HttpPool pool(io, {"127.0.0.1", hold.port(), 1, 10, 60000, 50});
  std::vector<NoAnswer> causes;
  for (int i = 0; i < 2; ++i) {  // One in flight, one queued behind it.
    pool.Submit(load::RenderRequest("GET", "/", {}, ""),
                [&](HttpReply r) { causes.push_back(r.no_answer); });
  }
  boost::asio::steady_timer close_soon(io, std::chrono::milliseconds(100));
  close_soon.async_wait([&](boost::system::error_code) { pool.Close(); });
  io.run();
  EXPECT_EQ(causes, (std::vector<NoAnswer>{NoAnswer::kAbandoned, NoAnswer::kAbandoned}));

  EXPECT_EQ(NoAnswerOf(502, NoAnswer::kNone), NoAnswer::kProxy);
  EXPECT_EQ(NoAnswerOf(504, NoAnswer::kNone), NoAnswer::kProxy);
  EXPECT_EQ(NoAnswerOf(503, NoAnswer::kNone), NoAnswer::kNone);  // The server's own answer.
  EXPECT_EQ(NoAnswerOf(409, NoAnswer::kNone), NoAnswer::kNone);
  EXPECT_EQ(NoAnswerOf(0, NoAnswer::kTimeout), NoAnswer::kTimeout);
  EXPECT_STREQ(NoAnswerName(NoAnswer::kProxy), "proxy_no_answer");
}

// A server that closed a kept-alive connection while it sat idle (a restart, its idle timeout)
// must not cost the next request on it its answer: the pool notices and dials again.
TEST(HttpPoolNoAnswer, AConnectionClosedWhileIdleIsDialledAgain) {
  Listener server(Listener::Mode::kAnswerThenClose);
  boost::asio::io_context io;
  HttpPool pool(io, {"127.0.0.1", server.port(), 1, 10, 2000, 50});
  std::vector<HttpReply> replies;
  const std::string request = load::RenderRequest("GET", "/healthz", {}, "");
  pool.Submit(request, [&](HttpReply r) { replies.push_back(r); });
  io.run();
  ASSERT_EQ(replies.size(), 1u);
  EXPECT_EQ(replies[0].status, 200);
  ASSERT_TRUE(rp::testing::Eventually([&] { return server.closed() == 1; }));
  pool.Submit(request, [&](HttpReply r) { replies.push_back(r); });
  io.restart();
  io.run();
  ASSERT_EQ(replies.size(), 2u);
  EXPECT_EQ(replies[1].status, 200) << NoAnswerName(replies[1].no_answer);
}

Scenario Plan(const std::string& faults_and_phases) {
  Result<Scenario> s = ParseScenarioText(R"(name: u
system: {ledger: postgres, instances: 2}
flows:
  c2c: {weight: 1}
)" + faults_and_phases,
                                         "u.yaml");
  EXPECT_TRUE(s.ok()) << s.status().ToString();
  return s.ok() ? *s : Scenario{};
}

FaultRecord Ran(const std::string& action, double started_s, double ended_s) {
  FaultRecord r;
  r.action = action;
  r.planned_s = r.started_s = started_s;
  r.ended_s = ended_s;
  r.ok = true;
  return r;
}

// stats with `answered` claims answered 201 and the unanswered ones given, each (op, sent s,
// given up s, cause).
struct Lost {
  const char* op;
  double sent_s, done_s;
  NoAnswer cause;
};
RunStats Stats(int answered, const std::vector<Lost>& lost) {
  RunStats stats;
  for (int i = 0; i < answered; ++i) stats.Record("claim", 0, 201, 1000);
  for (const Lost& l : lost) {
    stats.Record(l.op, static_cast<int64_t>(l.done_s), 0, 1000);
    stats.RecordUnanswered(l.op, l.cause, static_cast<int64_t>(l.sent_s * 1000),
                           static_cast<int64_t>(l.done_s * 1000));
  }
  return stats;
}

TEST(Unanswered, NoneIsTheDefaultAndEachOneIsCountedByOperationCauseAndPhase) {
  const Scenario s = Plan(R"(load:
  phases:
    - {name: warm, duration_s: 5, rate: 10}
    - {name: peak, duration_s: 5, rate: 10}
)");
  CheckResult clean = UnansweredCheck(PlaceUnanswered(s, Stats(50, {}), {}));
  EXPECT_TRUE(clean.passed) << clean.detail;
  EXPECT_EQ(clean.check, "unanswered == 0");
  EXPECT_EQ(clean.kind, "plan");
  EXPECT_EQ(clean.detail, "unanswered = 0 of 50 requests, limit == 0");

  const RunStats stats = Stats(50, {{"claim", 1.0, 11.0, NoAnswer::kTimeout},
                                    {"claim", 6.0, 16.0, NoAnswer::kTimeout},
                                    {"detail", 7.0, 7.1, NoAnswer::kConnectionLost},
                                    {"claim", 12.0, 12.0, NoAnswer::kConnectFailed}});
  const UnansweredFigures u = PlaceUnanswered(s, stats, {});
  EXPECT_EQ(u.requests, 54);
  EXPECT_EQ(u.total, 4);
  EXPECT_EQ(u.by_op, (std::map<std::string, int64_t>{{"claim", 3}, {"detail", 1}}));
  EXPECT_EQ(u.by_cause, (std::map<std::string, int64_t>{
                            {"timeout", 2}, {"connection_lost", 1}, {"connect_failed", 1}}));
  ASSERT_EQ(u.phases.size(), 2u);
  EXPECT_EQ(u.phases[0].count, 1);  // Placed by when it was sent, not when it gave up...
  EXPECT_EQ(u.phases[1].count, 3);  // ...and after the last phase: the last phase.
  EXPECT_EQ(stats.ops().at("claim").unanswered, 3);
  EXPECT_EQ(stats.ops().at("claim").unanswered_by_cause.at("timeout"), 2);
  const CheckResult c = UnansweredCheck(u);
  EXPECT_FALSE(c.passed);
  EXPECT_DOUBLE_EQ(c.actual, 4);
  EXPECT_NE(c.detail.find("unanswered = 4 of 54 requests (claim 3, detail 1; timeout 2, "),
            std::string::npos)
      << c.detail;
  EXPECT_NE(c.detail.find("first beyond its budget: claim sent at 1.00 s in phase warm, timeout "
                          "after 10.00 s"),
            std::string::npos)
      << c.detail;
  EXPECT_NE(c.detail.find("every request must be answered unless the scenario budgets"),
            std::string::npos);
}

// A fault's budget covers the requests in flight at any time from its start until its recovery
// after it is over — and nothing after: a server that stays wedged past the window fails.
TEST(Unanswered, AFaultBudgetCoversItsWindowAndNothingAfter) {
  const Scenario s = Plan(R"(load:
  phases:
    - {name: p, duration_s: 20, rate: 10}
faults:
  - {at_s: 5, action: db_crash, unanswered_max: 3}
  - {at_s: 12, action: instance_kill, instance: 1, unanswered_max: all, unanswered_recovery_s: 1}
  - {at_s: 14, action: instance_restart, instance: 1}
)");
  const std::vector<FaultRecord> ran = {Ran("db_crash", 5.1, 6.0), Ran("instance_kill", 12.0, 12.1),
                                        Ran("instance_restart", 14.0, 14.5)};
  // In flight across the crash (sent before it), sent during it, sent 1.9 s after it ended.
  const std::vector<Lost> crash = {{"claim", 2.0, 12.0, NoAnswer::kTimeout},
                                   {"claim", 5.5, 5.6, NoAnswer::kConnectionLost},
                                   {"send", 7.9, 7.9, NoAnswer::kProxy}};
  UnansweredFigures u = PlaceUnanswered(s, Stats(10, crash), ran);
  ASSERT_EQ(u.windows.size(), 2u);
  EXPECT_DOUBLE_EQ(u.windows[0].start_s, 5.1);
  EXPECT_DOUBLE_EQ(u.windows[0].end_s, 8.0);   // Over at 6.0, plus the default 2 s.
  EXPECT_DOUBLE_EQ(u.windows[1].end_s, 15.5);  // Its instance_restart done at 14.5, plus 1 s.
  EXPECT_EQ(u.windows[0].count, 3);
  CheckResult c = UnansweredCheck(u);
  EXPECT_TRUE(c.passed) << c.detail;
  EXPECT_EQ(c.check, "unanswered <= budget");

  std::vector<Lost> more = crash;
  more.push_back({"claim", 7.95, 7.95, NoAnswer::kConnectFailed});  // One past the crash's 3.
  c = UnansweredCheck(PlaceUnanswered(s, Stats(10, more), ran));
  EXPECT_FALSE(c.passed);
  EXPECT_NE(c.detail.find("first beyond its budget: claim sent at 7.95 s in the window of "
                          "db_crash at 5.0 s (window 5.1-8.0 s)"),
            std::string::npos)
      << c.detail;

  more = crash;  // Any number while the instance is down, until 15.5 s...
  for (int i = 0; i < 100; ++i) more.push_back({"claim", 13.0, 13.0, NoAnswer::kProxy});
  EXPECT_TRUE(UnansweredCheck(PlaceUnanswered(s, Stats(10, more), ran)).passed);
  more.push_back({"claim", 16.0, 26.0, NoAnswer::kTimeout});  // ...but wedged after: a failure.
  c = UnansweredCheck(PlaceUnanswered(s, Stats(10, more), ran));
  EXPECT_FALSE(c.passed);
  EXPECT_NE(c.detail.find("claim sent at 16.00 s in phase p, timeout after 10.00 s"),
            std::string::npos)
      << c.detail;

  // A fault that never ran, or whose ending action never ran, leaves its window open.
  u = PlaceUnanswered(s, Stats(10, more), {ran[0], ran[1]});
  EXPECT_TRUE(std::isinf(u.windows[1].end_s));
  EXPECT_TRUE(u.within_budget);
}

// Request times are whole milliseconds, floored; a fault's start is not. A request lost in the
// very millisecond a restart began is the restart's, not the phase's (a CI run once failed on
// exactly that: sent and lost at 4.920 s, the restart recorded at 4.9203 s).
TEST(Unanswered, ARequestLostInTheMillisecondAFaultBeganIsTheFaults) {
  const Scenario s = Plan(R"(load:
  phases:
    - {name: p, duration_s: 10, rate: 10}
faults:
  - {at_s: 4.9, action: server_restart, unanswered_max: all}
)");
  const std::vector<FaultRecord> ran = {Ran("server_restart", 4.9203, 5.5)};
  UnansweredFigures u =
      PlaceUnanswered(s, Stats(10, {{"claim", 4.9205, 4.9205, NoAnswer::kConnectionLost}}), ran);
  ASSERT_EQ(u.windows.size(), 1u);
  EXPECT_EQ(u.windows[0].count, 1);
  EXPECT_TRUE(UnansweredCheck(u).passed);
  // One whole millisecond before the start it is still the phase's.
  u = PlaceUnanswered(s, Stats(10, {{"claim", 4.9185, 4.9185, NoAnswer::kConnectionLost}}), ran);
  EXPECT_EQ(u.windows[0].count, 0);
  EXPECT_FALSE(UnansweredCheck(u).passed);
}

TEST(Unanswered, APhaseBudgetTakesWhatNoFaultWindowTook) {
  const Scenario s = Plan(R"(load:
  phases:
    - {name: calm, duration_s: 5, rate: 10}
    - {name: storm, duration_s: 5, rate: 10, unanswered_max: 2}
    - {name: after, duration_s: 5, rate: 10, unanswered_max: all}
)");
  std::vector<Lost> lost = {{"claim", 5.5, 6.0, NoAnswer::kTimeout},
                            {"claim", 6.5, 7.0, NoAnswer::kTimeout}};
  for (int i = 0; i < 40; ++i) lost.push_back({"detail", 11.0, 11.5, NoAnswer::kTimeout});
  UnansweredFigures u = PlaceUnanswered(s, Stats(5, lost), {});
  EXPECT_TRUE(u.within_budget);
  EXPECT_EQ(u.phases[1].outside_windows, 2);
  EXPECT_EQ(u.phases[2].outside_windows, 40);
  const nlohmann::json j = UnansweredJson(u);
  EXPECT_EQ(j["by_phase"][1]["max"], 2);
  EXPECT_EQ(j["by_phase"][2]["max"], "all");
  EXPECT_EQ(j["by_phase"][2]["by_op"]["detail"], 40);
  lost.push_back({"claim", 9.0, 9.1, NoAnswer::kConnectionLost});  // A third in storm.
  lost.push_back({"claim", 1.0, 1.1, NoAnswer::kConnectionLost});  // One in calm: none allowed.
  u = PlaceUnanswered(s, Stats(5, lost), {});
  EXPECT_FALSE(u.within_budget);
  EXPECT_EQ(u.first_beyond_where, "phase calm");  // The earliest sent beyond its budget.
  EXPECT_FALSE(UnansweredCheck(u).passed);
}

TEST(Unanswered, BudgetsAreReadStrictly) {
  const std::string head = "name: u\nflows:\n  c2c: {weight: 1}\nload:\n  phases:\n";
  auto refused = [&](const std::string& rest, const std::string& says) {
    Result<Scenario> s = ParseScenarioText(head + rest, "u.yaml");
    ASSERT_FALSE(s.ok()) << rest;
    EXPECT_NE(s.status().message().find(says), std::string::npos) << s.status().message();
  };
  refused("    - {name: p, duration_s: 5, rate: 1, unanswered_max: -1}\n", "u.yaml:6: ");
  refused("    - {name: p, duration_s: 5, rate: 1, unanswered_max: some}\n", "must be a number");
  refused(
      "    - {name: p, duration_s: 5, rate: 1}\nfaults:\n"
      "  - {at_s: 1, action: mock_reset, unanswered_recovery_s: 3}\n",
      "'unanswered_recovery_s' extends the window of an unanswered_max: give both");
  Result<Scenario> ok = ParseScenarioText(
      head +
          "    - {name: p, duration_s: 5, rate: 1, unanswered_max: 7}\nfaults:\n"
          "  - {at_s: 1, action: mock_reset, unanswered_max: all, unanswered_recovery_s: 0.5}\n"
          "  - {at_s: 2, action: mock_reset}\n",
      "u.yaml");
  ASSERT_TRUE(ok.ok()) << ok.status().ToString();
  EXPECT_EQ(ok->load.phases[0].unanswered_max, 7);
  EXPECT_EQ(ok->faults[0].unanswered_max, kUnansweredAll);
  EXPECT_DOUBLE_EQ(ok->faults[0].unanswered_recovery_s, 0.5);
  EXPECT_EQ(ok->faults[1].unanswered_max, -1);  // No budget of its own.
}

}  // namespace
}  // namespace rp::sim
