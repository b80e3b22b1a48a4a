// rp-mock's own contract (in-process MockServer): idempotent wallet, switch semantics (an error
// applies nothing, a timeout applies then hangs, down answers 503), signed and duplicated
// callbacks, subsidy tokens and TCC steps, deterministic social graph, durable records.
#include <gtest/gtest.h>
#include <httplib.h>

#include <condition_variable>
#include <fstream>
#include <mutex>
#include <thread>

#include "common/crypto.h"
#include "common/options.h"
#include "common/process/process.h"
#include "common/subsidy_token.h"
#include "mocks/config.h"
#include "mocks/mock_server.h"
#include "mocks/reward.h"
#include "tests/support/harness.h"
#include "tests/util/docs_table.h"

namespace rp::testing {
namespace {

using nlohmann::json;

class MockTest : public ::testing::Test {
 protected:
  void Start(uint64_t seed = 3) {
    mock::MockConfig c;
    c.data_dir = dir_.path();
    c.seed = seed;
    c.payment_secret = kPaymentSecret;
    c.reward_secret = kRewardSecret;
    auto m = mock::MockServer::Start(c);
    ASSERT_TRUE(m.ok()) << m.status().ToString();
    mock_ = std::move(m.value());
    http_ = std::make_unique<httplib::Client>("127.0.0.1", mock_->port());
    http_->set_read_timeout(10, 0);
  }
  Reply Post(const std::string& path, const json& body) {
    auto r = http_->Post(path, body.dump(), "application/json");
    return r ? Reply{r->status, json::parse(r->body, nullptr, false), r->body} : Reply{};
  }
  Reply Get(const std::string& path) {
    auto r = http_->Get(path);
    return r ? Reply{r->status, json::parse(r->body, nullptr, false), r->body} : Reply{};
  }
  TempDir dir_;
  std::unique_ptr<mock::MockServer> mock_;
  std::unique_ptr<httplib::Client> http_;
};

TEST_F(MockTest, WalletTransfersAreIdempotentAndCreditOnce) {
  Start();
  json t = {{"transfer_no", "TR1"}, {"user_id", 9}, {"amount_cents", 150}};
  EXPECT_EQ(Post("/wallet/transfers", t).status, 201);
  EXPECT_EQ(Post("/wallet/transfers", t).status, 200);
  t["amount_cents"] = 151;
  EXPECT_EQ(Post("/wallet/transfers", t).body["error"]["code"], "idempotency_conflict");
  EXPECT_EQ(Get("/wallet/balance/9").body["balance_cents"], 150);
  EXPECT_EQ(Post("/wallet/transfers", {{"transfer_no", "x"}, {"user_id", -1}}).status, 400);
  EXPECT_EQ(
      Post("/wallet/refunds", {{"refund_no", "RF1"}, {"pay_order_no", "nope"}, {"amount_cents", 1}})
          .status,
      404);
}

TEST_F(MockTest, ErrorAppliesNothingTimeoutAppliesThenHangsDownIs503) {
  Start();
  Post("/admin/switches", {{"service", "wallet"}, {"endpoint", "transfers"}, {"error_rate", 1.0}});
  EXPECT_EQ(
      Post("/wallet/transfers", {{"transfer_no", "E"}, {"user_id", 1}, {"amount_cents", 5}}).status,
      500);
  EXPECT_EQ(Get("/wallet/transfers/E").status, 404);
  Post(
      "/admin/switches",
      {{"service", "wallet"}, {"endpoint", "transfers"}, {"timeout_rate", 1.0}, {"hang_ms", 1500}});
  httplib::Client impatient("127.0.0.1", mock_->port());
  impatient.set_read_timeout(0, 300000);  // 300 ms: the client gives up first.
  auto r = impatient.Post("/wallet/transfers",
                          json{{"transfer_no", "T"}, {"user_id", 2}, {"amount_cents", 7}}.dump(),
                          "application/json");
  EXPECT_FALSE(r);                                               // The caller saw a timeout...
  EXPECT_EQ(Get("/wallet/balance/2").body["balance_cents"], 7);  // ...but it was applied.
  Post("/admin/switches", {{"service", "wallet"}, {"endpoint", "*"}, {"down", true}});
  EXPECT_EQ(Get("/wallet/balance/2").status, 503);
  EXPECT_EQ(Post("/admin/switches", {{"service", "wallet"}, {"error_rate", 2}}).status, 400);
  EXPECT_EQ(Post("/admin/switches", {{"service", "bank"}}).status, 400);
  EXPECT_EQ(Get("/admin/switches").body["switches"].size(), 2u);
}

TEST_F(MockTest, PaymentCallbackIsSignedAndCanBeDuplicated) {
  Start();
  std::mutex mu;
  std::condition_variable cv;
  std::vector<std::pair<std::string, std::string>> got;  // body, signature
  httplib::Server receiver;
  receiver.Post("/cb", [&](const httplib::Request& req, httplib::Response& res) {
    std::lock_guard<std::mutex> lock(mu);
    got.emplace_back(req.body, req.get_header_value("X-RP-Signature"));
    cv.notify_all();
    res.status = 200;
  });
  const int port = receiver.bind_to_any_port("127.0.0.1");
  std::thread t([&] { receiver.listen_after_bind(); });
  Post("/admin/switches",
       {{"service", "payment"}, {"endpoint", "callback"}, {"duplicate_rate", 1.0}});
  json order = {{"pay_order_no", "PAY7"},
                {"amount_cents", 300},
                {"payer_id", 4},
                {"notify_url", "http://127.0.0.1:" + std::to_string(port) + "/cb"}};
  EXPECT_EQ(Post("/pay/orders", order).status, 201);
  EXPECT_EQ(Post("/pay/orders", order).status, 200);
  {
    std::unique_lock<std::mutex> lock(mu);
    ASSERT_TRUE(cv.wait_for(lock, std::chrono::seconds(10), [&] { return got.size() >= 2; }));
  }
  for (const auto& [body, sig] : got) {
    EXPECT_EQ(sig, crypto::HmacSha256Hex(kPaymentSecret, body));
    EXPECT_EQ(json::parse(body)["status"], "paid");
  }
  EXPECT_EQ(Get("/pay/orders/PAY7").body["status"], "paid");
  // Refunds of a paid order: credited to the payer, never beyond what was paid.
  EXPECT_EQ(Post("/wallet/refunds",
                 {{"refund_no", "RF7"}, {"pay_order_no", "PAY7"}, {"amount_cents", 200}})
                .status,
            201);
  EXPECT_EQ(Post("/wallet/refunds",
                 {{"refund_no", "RF8"}, {"pay_order_no", "PAY7"}, {"amount_cents", 101}})
                .body["error"]["code"],
            "refund_exceeds_payment");
  EXPECT_EQ(Get("/wallet/balance/4").body["balance_cents"], 200);
  receiver.stop();
  t.join();
}

// A round ends at now + expires_in_s: a length near 2^63 would overflow that sum. It is refused
// like any other bad round (400 invalid_round, saying the bound); ten years is the most.
TEST_F(MockTest, ARoundLongerThanTenYearsIsRefused) {
  Start();
  auto round = [](const std::string& id, int64_t expires_in_s) {
    return json{{"round", id},
                {"budget_cents", 1000},
                {"min_cents", 100},
                {"max_cents", 100},
                {"expires_in_s", expires_in_s}};
  };
  for (int64_t bad : {INT64_MAX, INT64_MAX - 1000, int64_t{1} << 62, mock::kRoundSecondsMax + 1,
                      int64_t{0}, int64_t{-5}}) {
    Reply r = Post("/admin/rounds", round("far", bad));
    EXPECT_EQ(r.status, 400) << bad << ": " << r.raw;
    EXPECT_EQ(r.body["error"]["code"], "invalid_round") << bad;
    EXPECT_NE(r.raw.find("expires_in_s must be 1..316224000 (10 years)"), std::string::npos)
        << r.raw;
  }
  EXPECT_EQ(Get("/admin/rounds/far").status, 404);
  EXPECT_EQ(Post("/admin/rounds", round("decade", mock::kRoundSecondsMax)).status, 201);
  EXPECT_EQ(Post("/reward/rain/decade/grab", {{"user_id", 5}}).status, 201);
}

TEST_F(MockTest, SubsidyTokensVerifyAndTccStepsAreIdempotent) {
  Start();
  ASSERT_EQ(Post("/admin/rounds", {{"round", "r"},
                                   {"budget_cents", 1000},
                                   {"min_cents", 100},
                                   {"max_cents", 100},
                                   {"expires_in_s", 60}})
                .status,
            201);
  EXPECT_EQ(Post("/admin/rounds", {{"round", "bad"},
                                   {"budget_cents", 10},
                                   {"min_cents", 100},
                                   {"max_cents", 100},
                                   {"expires_in_s", 60}})
                .status,
            400);
  Reply g = Post("/reward/rain/r/grab", {{"user_id", 5}});
  ASSERT_EQ(g.status, 201);
  auto claims =
      subsidy::VerifyToken(kRewardSecret, g.body["token"].get<std::string>(), std::time(nullptr));
  ASSERT_TRUE(claims.ok());
  EXPECT_EQ(claims->user_id, 5);
  EXPECT_EQ(claims->amount_cents, 100);
  std::string forged = g.body["token"];
  forged[3] = forged[3] == 'A' ? 'B' : 'A';
  EXPECT_FALSE(subsidy::VerifyToken(kRewardSecret, forged, std::time(nullptr)).ok());
  const std::string id = g.body["subsidy_id"];
  const std::string base = "/reward/subsidies/" + id;
  EXPECT_EQ(Post(base + "/try", {{"tx_id", "A"}}).status, 200);
  EXPECT_EQ(Post(base + "/try", {{"tx_id", "A"}}).status, 200);     // Idempotent.
  EXPECT_EQ(Post(base + "/try", {{"tx_id", "B"}}).status, 409);     // Frozen by A.
  EXPECT_EQ(Post(base + "/cancel", {{"tx_id", "B"}}).status, 200);  // No-op for B.
  EXPECT_EQ(Post(base + "/confirm", {{"tx_id", "A"}}).status, 200);
  EXPECT_EQ(Post(base + "/confirm", {{"tx_id", "A"}}).status, 200);
  EXPECT_EQ(Get(base).body["state"], "used");
  EXPECT_EQ(Post(base + "/try", {{"tx_id", "C"}}).status, 409);
  // Budget: 10 grabs of 100 fit, the 11th does not.
  for (int u = 6; u < 15; ++u) EXPECT_EQ(Post("/reward/rain/r/grab", {{"user_id", u}}).status, 201);
  EXPECT_EQ(Post("/reward/rain/r/grab", {{"user_id", 99}}).body["error"]["code"],
            "budget_exhausted");
  EXPECT_EQ(Get("/admin/rounds/r").body["remaining_cents"], 0);
}

TEST_F(MockTest, SocialGraphIsDeterministicAndRecordsSurviveRestart) {
  Start(11);
  std::vector<json> first;
  for (int a = 1; a < 20; ++a)
    first.push_back(Get("/social/relation?from=" + std::to_string(a) + "&to=99").body);
  Post("/wallet/transfers", {{"transfer_no", "KEEP"}, {"user_id", 3}, {"amount_cents", 42}});
  mock_->Stop();
  mock_.reset();
  Start(11);
  for (int a = 1; a < 20; ++a) {
    EXPECT_EQ(Get("/social/relation?from=" + std::to_string(a) + "&to=99").body,
              first[static_cast<size_t>(a - 1)]);
  }
  int follows = 0;
  for (const json& r : first) follows += r["follows"].get<bool>();
  EXPECT_GT(follows, 0);   // ~30% follow: some do...
  EXPECT_LT(follows, 19);  // ...and some do not.
  EXPECT_EQ(Get("/wallet/balance/3").body["balance_cents"], 42);
  EXPECT_EQ(Get("/social/relation?from=x&to=1").status, 400);
}

// rp-mock's config file goes through the loader rp-server's uses: its lists parse with the admin
// API's own parsers, and an unknown key, a value out of range or a bad list entry is refused with
// file:line.
TEST(MockConfigTest, TheFileIsCheckedByTheSharedLoader) {
  TempDir dir;
  auto load = [&dir](const std::string& text, mock::MockConfig* c) {
    const std::string path = dir.File("mock.yaml");
    std::ofstream(path) << text;
    options::Registry r;
    mock::Declare(r, c);
    Status s = r.LoadYamlFile(path);
    if (s.ok()) s = r.Validate();
    return s;
  };
  mock::MockConfig ok;
  ok.payment_secret = ok.reward_secret = kPaymentSecret;
  ASSERT_TRUE(load("switches:\n  - {service: wallet, endpoint: transfers, error_rate: 0.3}\n"
                   "rounds:\n  - {round: spring, budget_cents: 1000, min_cents: 1, max_cents: 10,"
                   " expires_in_s: 60}\nsocial: {follow_percent: 12}\nserver: {threads: 8}\n",
                   &ok)
                  .ok());
  ASSERT_EQ(ok.switches.size(), 1u);
  EXPECT_EQ(ok.switches[0].error_rate, 0.3);
  ASSERT_EQ(ok.rounds.size(), 1u);
  EXPECT_EQ(ok.follow_percent, 12);
  EXPECT_EQ(ok.threads, 8);
  const std::vector<std::pair<std::string, std::string>> bad = {
      {"social: {folow_percent: 3}\n", "mock.yaml:1: unknown key 'social.folow_percent'"},
      {"social: {follow_percent: 101}\n", "social.follow_percent must be 0..100"},
      {"wallet: {x: 1}\n", "mock.yaml:1: unknown section 'wallet'"},
      {"switches:\n  - {service: walet}\n", "mock.yaml:2: "},
      {"rounds: {round: r}\n", "mock.yaml:1: expected a list"},
  };
  for (const auto& [text, expect] : bad) {
    mock::MockConfig c;
    c.payment_secret = c.reward_secret = kPaymentSecret;
    Status s = load(text, &c);
    ASSERT_FALSE(s.ok()) << text;
    EXPECT_NE(s.message().find(expect), std::string::npos) << s.message();
  }
  mock::MockConfig no_secret;
  Status s = load("", &no_secret);
  EXPECT_NE(s.message().find("payment secret missing"), std::string::npos) << s.message();
}

// The program: a bad file exits 2 naming the line; `rp-mock config` prints every key.
TEST(MockConfigTest, TheProgramRefusesABadFileAndPrintsItsKeys) {
  TempDir dir;
  std::ofstream(dir.File("bad.yaml")) << "social: {follow_percent: 300}\n";
  auto bad = ChildProcess::Spawn({RP_MOCK_BIN, "serve", "--config", dir.File("bad.yaml")},
                                 {"RP_PAYMENT_SECRET=" + std::string(kPaymentSecret),
                                  "RP_REWARD_SECRET=" + std::string(kRewardSecret)},
                                 dir.File("bad.log"));
  ASSERT_TRUE(bad.ok());
  Result<int> code = bad->Wait(10000);
  ASSERT_TRUE(code.ok());
  EXPECT_EQ(*code, 2);
  std::ifstream log(dir.File("bad.log"));
  const std::string text((std::istreambuf_iterator<char>(log)), std::istreambuf_iterator<char>());
  EXPECT_NE(text.find("bad.yaml:1: social.follow_percent"), std::string::npos) << text;
  auto table = ChildProcess::Spawn({RP_MOCK_BIN, "config"});
  ASSERT_TRUE(table.ok());
  std::string all;
  for (auto line = table->ReadLine(10000); line.ok(); line = table->ReadLine(10000)) all += *line;
  EXPECT_NE(all.find("`social.follow_percent`"), std::string::npos) << all;
  EXPECT_NE(all.find("`switches`"), std::string::npos) << all;
  Result<int> table_code = table->Wait(10000);
  ASSERT_TRUE(table_code.ok());
  EXPECT_EQ(*table_code, 0);
}

// The table in docs/mocks.md is the one `rp-mock config` prints.
TEST(MockConfigTest, TheDocsTableIsTheDeclaredOne) {
  mock::MockConfig config;
  options::Registry r;
  mock::Declare(r, &config);
  EXPECT_EQ(DocsTableMismatch(std::string(RP_SOURCE_DIR) + "/docs/mocks.md", "rp-mock",
                              r.MarkdownTable()),
            "");
}

}  // namespace
}  // namespace rp::testing
