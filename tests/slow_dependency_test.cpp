// A dependency that is slow but never fails — rp-mock's reward or social service answering in
// 1.5 s, under the server's 2 s call deadline — must not hang the core flows behind it. Many
// concurrent rain grabs, B2C sends and claims on a fans-only packet are all answered within a
// bound (the call deadline + the bulkhead's queue wait + a margin for a loaded machine), those
// that could not get a thread in time with 503 and Retry-After (or, for the claim, unchecked),
// and the breaker opens on the slow calls alone. Without the bound they queued behind four pool
// threads for tens of seconds, and no breaker counted a call that did not fail.
#include <gtest/gtest.h>

#include <httplib.h>

#include <chrono>
#include <latch>
#include <thread>
#include <vector>

#include "tests/support/harness.h"

namespace rp::testing {
namespace {

using nlohmann::json;

constexpr int kConcurrent = 60;      // As the red team's run: 15 calls deep per pool thread.
constexpr int64_t kSlowMs = 1500;    // Under the 2 s deadline, over its half (slow).
constexpr int64_t kMarginMs = 5000;  // A loaded 2-core machine under the sanitizers.
// The defaults of async.call_deadline_ms and bulkhead.queue_wait_ms_max (the longest a request
// waits for a pool thread).
const int64_t kDeadlineMs = base::DownstreamOptions{}.call_deadline_ms;
const int64_t kQueueWaitMs = base::BulkheadConfig{}.queue_wait_ms_max;

struct Answer {
  int status = 0;  // 0: no answer.
  std::string code, retry_after;
  bool degraded = false;
  int64_t ms = 0;
};

class SlowDependencyTest : public ::testing::Test {
 protected:
  void SetUp() override {
    mock_ = std::make_unique<MockProcess>(dir_);
    ASSERT_FALSE(mock_->url().empty());
    ServerConfig c = TestConfig(dir_);
    c.downstream.mocks_url = mock_->url();
    c.async.idle_poll_ms = 10;
    c.recon.interval_ms = 0;
    c.breaker.calls_min = 4;     // The first wave's calls are enough to judge.
    c.breaker.open_ms = 600000;  // Once open, it stays open for the rest of the test.
    // breaker.slow_* and bulkhead.* keep their defaults: they are what is tested.
    server_ = std::make_unique<InProcessServer>(c);
    ASSERT_TRUE(server_->app);
    client_ = std::make_unique<Client>(server_->port);
  }
  void TearDown() override {
    if (server_ && server_->app) server_->app->Stop();
    EXPECT_TRUE(LedgerConserves(dir_.File("ledger.db")));
  }

  // n POSTs at once, request i by user first_user + i with body_of(i); every answer with its
  // time. The client waits a minute: a slow answer is measured, not cut short.
  std::vector<Answer> AllAtOnce(int n, int64_t first_user, const std::string& path,
                                const std::function<std::string(int)>& body_of) {
    std::vector<Answer> answers(static_cast<size_t>(n));
    std::latch ready(n);
    std::vector<std::thread> threads;
    for (int i = 0; i < n; ++i) {
      threads.emplace_back([&, i] {
        httplib::Client http("127.0.0.1", server_->port);
        http.set_read_timeout(60, 0);
        const httplib::Headers auth = {{"Authorization", "Bearer " + TokenFor(first_user + i)}};
        const std::string body = body_of(i);
        ready.arrive_and_wait();
        const auto start = std::chrono::steady_clock::now();
        httplib::Result r = http.Post(path, auth, body, "application/json");
        Answer& a = answers[static_cast<size_t>(i)];
        a.ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                   std::chrono::steady_clock::now() - start)
                   .count();
        if (!r) return;
        a.status = r->status;
        a.retry_after = r->get_header_value("Retry-After");
        const json b = json::parse(r->body, nullptr, false);
        if (b.is_object() && b.contains("error")) a.code = b["error"].value("code", "");
        a.degraded = b.is_object() && b.value("degraded", false);
      });
    }
    for (auto& t : threads) t.join();
    return answers;
  }
  static int64_t SlowestMs(const std::vector<Answer>& answers) {
    int64_t ms = 0;
    for (const Answer& a : answers) ms = std::max(ms, a.ms);
    return ms;
  }
  // Answers refused for the pool's wait bound: 503 overloaded, Retry-After: 1.
  static int RefusedToRetry(const std::vector<Answer>& answers) {
    int n = 0;
    for (const Answer& a : answers) n += a.status == 503 && a.code == "overloaded";
    return n;
  }
  // A sample of /metrics whose line starts with series (name and labels, in their order).
  double Metric(const std::string& series) {
    const std::string text = client_->Send("GET", "/metrics", "", {}).raw;
    const size_t at = text.find("\n" + series + " ");
    return at == std::string::npos ? -1 : std::atof(text.c_str() + at + series.size() + 2);
  }
  void Round(const std::string& round) {
    mock_->Post("/admin/rounds", {{"round", round},
                                  {"budget_cents", 10'000'000},
                                  {"min_cents", 100},
                                  {"max_cents", 100},
                                  {"expires_in_s", 600}});
  }

  TempDir dir_;
  std::unique_ptr<MockProcess> mock_;
  std::unique_ptr<InProcessServer> server_;
  std::unique_ptr<Client> client_;
};

TEST_F(SlowDependencyTest, GrabsAreAnsweredInTimeAndTheBreakerOpensOnSlowCalls) {
  Round("slow");
  mock_->Switch(
      {{"service", "reward"}, {"endpoint", "grab"}, {"latency_ms", {{"fixed", kSlowMs}}}});
  const std::vector<Answer> grabs =
      AllAtOnce(kConcurrent, 1000, "/v1/rain/slow/grab", [](int) { return ""; });
  int won = 0;
  for (const Answer& a : grabs) {
    won += a.status == 201;
    EXPECT_TRUE(a.status == 201 || a.status == 503) << a.status << " " << a.code;
    if (a.status == 503) {
      EXPECT_EQ(a.retry_after, "1");
    }
  }
  EXPECT_GE(won, 1);
  EXPECT_GE(RefusedToRetry(grabs), 1);
  EXPECT_LE(SlowestMs(grabs), kDeadlineMs + kQueueWaitMs + kMarginMs);
  EXPECT_GE(Metric(R"(rp_pool_refused_total{pool="reward",reason="wait"})"), 1);
  // No call failed: the slow ones alone opened the breaker, and a grab now fails fast.
  EXPECT_EQ(
      Metric(R"(rp_breaker_transitions_total{endpoint="/reward/rain",service="reward",to="open"})"),
      1);
  const std::vector<Answer> after =
      AllAtOnce(1, 2000, "/v1/rain/slow/grab", [](int) { return ""; });
  EXPECT_EQ(after[0].status, 503);
  EXPECT_EQ(after[0].code, "reward_unavailable");
  EXPECT_LT(after[0].ms, kSlowMs);
}

TEST_F(SlowDependencyTest, B2cSendsAreAnsweredInTime) {
  Round("tokens");
  std::vector<std::string> tokens;
  for (int i = 0; i < kConcurrent; ++i) {
    Reply g = client_->Post("/v1/rain/tokens/grab", "", 3000 + i);
    ASSERT_EQ(g.status, 201) << g.raw;
    tokens.push_back(g.body["token"]);
  }
  mock_->Switch({{"service", "reward"}, {"endpoint", "tcc"}, {"latency_ms", {{"fixed", kSlowMs}}}});
  const std::vector<Answer> sends = AllAtOnce(kConcurrent, 3000, "/v1/packets", [&](int i) {
    return json{{"order_no", "slow-b2c-" + std::to_string(i)},
                {"kind", "b2c"},
                {"total_cents", 100},
                {"count", 1},
                {"split", "even"},
                {"audience", "public"},
                {"video_id", "v"},
                {"subsidy_token", tokens[static_cast<size_t>(i)]}}
        .dump();
  });
  int sent = 0;
  for (const Answer& a : sends) {
    sent += a.status == 201;
    EXPECT_TRUE(a.status == 201 || a.status == 503) << a.status << " " << a.code;
    if (a.status == 503) {
      EXPECT_EQ(a.retry_after, "1");
    }
  }
  EXPECT_GE(sent, 1);
  EXPECT_GE(RefusedToRetry(sends), 1);
  // A send makes two calls (try, confirm) on its pool thread.
  EXPECT_LE(SlowestMs(sends), 2 * kDeadlineMs + kQueueWaitMs + kMarginMs);
  EXPECT_EQ(
      Metric(
          R"(rp_breaker_transitions_total{endpoint="/reward/subsidies",service="reward",to="open"})"),
      1);
}

TEST_F(SlowDependencyTest, FansOnlyClaimsGoAheadUncheckedInsteadOfQueueing) {
  const int64_t fans = PaidPacketThroughMock(*client_, "slow-fans", 200, "fans");
  mock_->Switch({{"service", "social"}, {"endpoint", "*"}, {"latency_ms", {{"fixed", kSlowMs}}}});
  const std::vector<Answer> claims = AllAtOnce(
      kConcurrent, 5000, "/v1/packets/" + std::to_string(fans) + "/claims", [](int) { return ""; });
  int degraded = 0;
  for (const Answer& a : claims) {
    degraded += a.degraded;
    // Won (checked or not), or checked and refused as not a fan: never an error.
    EXPECT_TRUE(a.status == 201 || a.code == "not_in_audience") << a.status << " " << a.code;
  }
  EXPECT_GE(degraded, 1);
  EXPECT_LE(SlowestMs(claims), kDeadlineMs + kQueueWaitMs + kMarginMs);
  EXPECT_GE(Metric(R"(rp_pool_refused_total{pool="social",reason="wait"})"), 1);
  EXPECT_EQ(
      Metric(
          R"(rp_breaker_transitions_total{endpoint="/social/relation",service="social",to="open"})"),
      1);
}

}  // namespace
}  // namespace rp::testing
