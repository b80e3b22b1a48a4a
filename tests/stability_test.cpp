// Stability end to end, over HTTP against a real server and rp-mock: rate-limit refusals (429
// with Retry-After and a message for the user), live rule changes and shadow mode through
// /admin/limits, queueing, and each business-degradation path — the audience check when the
// social service is down or slow, the subsidy display when the reward service is down, the
// claim list switched off by hand, a rain grab with the reward service down — with the
// money checked afterwards.
#include <gtest/gtest.h>

#include <chrono>
#include <ctime>
#include <thread>

#include <httplib.h>

#include "common/crypto.h"
#include "tests/support/harness.h"

namespace rp::testing {
namespace {

using nlohmann::json;

class StabilityTest : public ::testing::Test {
 protected:
  void Start(const std::function<void(ServerConfig&)>& edit = {}) {
    mock_ = std::make_unique<MockProcess>(dir_);
    ASSERT_FALSE(mock_->url().empty());
    ServerConfig c = TestConfig(dir_);
    c.downstream.mocks_url = mock_->url();
    c.async.idle_poll_ms = 10;
    c.recon.interval_ms = 0;
    if (edit) edit(c);
    server_ = std::make_unique<InProcessServer>(c);
    ASSERT_TRUE(server_->app);
    client_ = std::make_unique<Client>(server_->port);
  }
  void TearDown() override {
    if (server_ && server_->app) server_->app->Stop();
    EXPECT_TRUE(LedgerConserves(dir_.File("ledger.db")));
  }
  Reply Admin(const std::string& method, const std::string& path, const json& body = nullptr) {
    const std::string token = auth::MintAdminToken(kAuthSecret, std::time(nullptr) + 600);
    return client_->Send(method, path, body.is_null() ? "" : body.dump(),
                         {{"Authorization", "Bearer " + token}});
  }
  // The Retry-After header of a POST by user (our client reads bodies, not headers).
  std::string RetryAfter(const std::string& path, int64_t user) {
    httplib::Client http("127.0.0.1", server_->port);
    httplib::Result r =
        http.Post(path, {{"Authorization", "Bearer " + TokenFor(user)}}, "", "application/json");
    return r ? r->get_header_value("Retry-After") : "no answer";
  }
  std::string MetricsText() { return client_->Send("GET", "/metrics", "", {}).raw; }
  // A paid packet (the mock's payment calls back), active when this returns.

  TempDir dir_;
  std::unique_ptr<MockProcess> mock_;
  std::unique_ptr<InProcessServer> server_;
  std::unique_ptr<Client> client_;
};

TEST_F(StabilityTest, PerPacketRuleRefusesWith429AndRulesChangeLive) {
  Start([](ServerConfig& c) {
    limits::LimitRule r;
    r.name = "claims_per_packet";
    r.route = "claim";
    r.per = limits::Per::kPacket;
    r.qps = 3;
    r.burst = 3;
    c.limits.config.rules.push_back(r);
  });
  const int64_t hot = PaidPacketThroughMock(*client_, "stab-hot", 50, "public");
  const int64_t cold = PaidPacketThroughMock(*client_, "stab-cold", 50, "public");
  int won = 0, refused = 0;
  for (int64_t user = 10; user < 30; ++user) {
    Reply r = client_->Claim(hot, user);
    if (r.status == 201) ++won;
    if (r.status != 429) continue;
    ++refused;
    EXPECT_EQ(r.body["error"]["code"], "rate_limited");
    EXPECT_EQ(r.body["error"]["rule"], "claims_per_packet");
    EXPECT_GE(r.body["error"]["retry_after_s"].get<int64_t>(), 1);
    EXPECT_NE(r.body["error"]["message"].get<std::string>().find("try again"), std::string::npos);
  }
  EXPECT_GE(won, 3);  // A token may come back while the loop runs; never many more.
  EXPECT_LE(won, 6);
  EXPECT_EQ(won + refused, 20);
  EXPECT_EQ(client_->Claim(cold, 10).status, 201);  // Another packet: its own bucket.
  EXPECT_EQ(RetryAfter("/v1/packets/" + std::to_string(hot) + "/claims", 99), "1");

  // Shadow: the same rule counts and refuses nothing.
  json shadow = Admin("GET", "/admin/limits").body;
  shadow["shadow"] = true;
  ASSERT_EQ(Admin("PUT", "/admin/limits", shadow).status, 200);
  for (int64_t user = 30; user < 40; ++user) EXPECT_NE(client_->Claim(hot, user).status, 429);
  EXPECT_NE(MetricsText().find(R"(rp_limit_shadow_refused_total{rule="claims_per_packet"})"),
            std::string::npos);
  // A bad rule is refused, naming the field; the rules in force stay.
  Reply bad = Admin("PUT", "/admin/limits",
                    {{"rules", {{{"name", "x"}, {"route", "claims"}, {"qps", 5}}}}});
  EXPECT_EQ(bad.status, 400);
  EXPECT_EQ(bad.body["error"]["code"], "invalid_limits");
  Reply global =
      Admin("PUT", "/admin/limits",
            {{"rules", {{{"name", "g"}, {"route", "claim"}, {"qps", 5}, {"scope", "global"}}}}});
  EXPECT_EQ(global.status, 400);  // No Redis here: the rule would not be global.
  EXPECT_NE(global.raw.find("scope global needs Redis"), std::string::npos) << global.raw;
  EXPECT_EQ(Admin("GET", "/admin/limits").body["shadow"], true);
  EXPECT_EQ(
      client_->Send("PUT", "/admin/limits", "{}", {{"Authorization", "Bearer " + TokenFor(5)}})
          .status,
      403);
}

TEST_F(StabilityTest, QueueingRuleDelaysInsteadOfRefusing) {
  Start([](ServerConfig& c) {
    limits::LimitRule r;
    r.name = "sends_paced";
    r.route = "send";
    r.qps = 20;
    r.behavior = limits::Behavior::kQueue;
    r.queue_ms_max = 2000;
    c.limits.config.rules.push_back(r);
  });
  for (int i = 0; i < 6; ++i) {
    EXPECT_EQ(client_->SendPacket(1, "paced-" + std::to_string(i), 100, 1).status, 201);
  }
  // Back-to-back sends from one client: at 20/s, most of them waited for their turn.
  EXPECT_NE(MetricsText().find(R"(rp_limit_refused_total{rule="sends_paced"} 0)"),
            std::string::npos);
  EXPECT_EQ(MetricsText().find(R"(rp_limit_queued_total{rule="sends_paced"} 0)"),
            std::string::npos);
}

TEST_F(StabilityTest, AudienceDegradesWhenSocialIsDownSlowOrSwitchedOff) {
  Start([](ServerConfig& c) {
    c.degrade.calls_min = 3;
    c.degrade.audience_slo_ms = 50;
    c.degrade.open_ms = 600000;  // Once broken, the SLO stays broken for the rest of the test.
    c.breaker.calls_min = 3;
    c.breaker.open_ms = 300;
  });
  const int64_t fans = PaidPacketThroughMock(*client_, "stab-fans", 500, "fans");
  auto reason = [&] {
    const Reply states = Admin("GET", "/admin/degrade");
    EXPECT_EQ(states.status, 200) << states.raw;
    for (const json& f : states.body["features"]) {
      if (f["feature"] == "audience") return f.value("reason", std::string("none"));
    }
    return std::string("missing");
  };
  int64_t user = 100;
  // Social down: each claim goes ahead unchecked and says so, then the social breaker opens.
  mock_->Switch({{"service", "social"}, {"endpoint", "*"}, {"down", true}});
  for (int i = 0; i < 6; ++i, ++user) {
    Reply r = client_->Claim(fans, user);
    ASSERT_EQ(r.status, 201) << r.raw;
    EXPECT_EQ(r.body["degraded"], true);
    EXPECT_EQ(r.body["degraded_feature"], "audience");
  }
  EXPECT_EQ(reason(), "social breaker open");
  // Social back but answering slower than the feature's SLO: after calls_min slow lookups the
  // feature degrades on its own, and claims stop waiting for the social service.
  mock_->ResetSwitches();
  mock_->Switch({{"service", "social"}, {"endpoint", "*"}, {"latency_ms", {{"fixed", 200}}}});
  ASSERT_TRUE(Eventually([&] {
    client_->Claim(fans, user++);
    return reason() == "slo broken";
  }));
  Reply fast = client_->Claim(fans, user++);
  EXPECT_EQ(fast.status, 201) << fast.raw;
  EXPECT_EQ(fast.body["degraded_feature"], "audience");
  // Mode on: checked whatever the SLO says (won, or refused as not a fan).
  ASSERT_EQ(Admin("PUT", "/admin/degrade", {{"feature", "audience"}, {"mode", "on"}}).status, 200);
  for (int i = 0; i < 3; ++i) {
    Reply r = client_->Claim(fans, user++);
    EXPECT_TRUE(r.status == 201 || r.body["error"]["code"] == "not_in_audience") << r.raw;
    EXPECT_FALSE(r.body.contains("degraded")) << r.raw;
  }
  ASSERT_EQ(Admin("PUT", "/admin/degrade", {{"feature", "audience"}, {"mode", "off"}}).status, 200);
  EXPECT_EQ(reason(), "switched off");
  EXPECT_EQ(client_->Claim(fans, user++).body["degraded_feature"], "audience");
  EXPECT_NE(MetricsText().find(R"(rp_feature_degraded{feature="audience"} 1)"), std::string::npos);
  EXPECT_EQ(Admin("PUT", "/admin/degrade", {{"feature", "claim"}, {"mode", "off"}}).status, 400);
}

TEST_F(StabilityTest, RewardDownDegradesTheDisplayAndGrabsSayTryAgain) {
  Start([](ServerConfig& c) { c.breaker.calls_min = 3; });
  mock_->Switch({{"service", "reward"}, {"endpoint", "*"}, {"down", true}});
  Reply list = client_->Get("/v1/subsidies", 7);
  ASSERT_EQ(list.status, 200) << list.raw;
  EXPECT_EQ(list.body["degraded"], true);
  EXPECT_EQ(list.body["degraded_feature"], "subsidy_display");
  for (int i = 0; i < 5; ++i) {
    Reply grab = client_->Post("/v1/rain/r1/grab", "", 7);
    ASSERT_EQ(grab.status, 503) << grab.raw;
    EXPECT_NE(grab.body["error"]["message"].get<std::string>().find("try again"), std::string::npos)
        << grab.raw;
  }
  EXPECT_EQ(RetryAfter("/v1/rain/r1/grab", 7), "1");
  EXPECT_NE(MetricsText().find(R"(rp_breaker_state{endpoint="/reward/rain",service="reward"} 1)"),
            std::string::npos)
      << MetricsText();
}

TEST_F(StabilityTest, ScheduledReconSkipsItsRoundsWhileSwitchedOff) {
  Start([](ServerConfig& c) { c.recon.interval_ms = 100; });
  auto skipped = [&] {
    const std::string m = MetricsText();
    const std::string key = R"(rp_degraded_answers_total{feature="recon"} )";
    const size_t at = m.find(key);
    return at == std::string::npos ? -1 : std::atoll(m.c_str() + at + key.size());
  };
  EXPECT_EQ(skipped(), 0);
  ASSERT_EQ(Admin("PUT", "/admin/degrade", {{"feature", "recon"}, {"mode", "off"}}).status, 200);
  ASSERT_TRUE(Eventually([&] { return skipped() >= 3; }));
  // A reconciliation on demand still runs while the scheduled one is off.
  Reply now = Admin("GET", "/admin/recon");
  EXPECT_EQ(now.status, 200) << now.raw;
  EXPECT_TRUE(now.body.contains("c2c")) << now.raw;
  ASSERT_EQ(Admin("PUT", "/admin/degrade", {{"feature", "recon"}, {"mode", "auto"}}).status, 200);
}

TEST_F(StabilityTest, ClaimListSwitchedOffAnswersAnEmptyDegradedPage) {
  Start();
  const int64_t id = PaidPacketThroughMock(*client_, "stab-list", 5, "public");
  ASSERT_EQ(client_->Claim(id, 20).status, 201);
  const std::string path = "/v1/packets/" + std::to_string(id) + "/claims";
  EXPECT_EQ(client_->Get(path, 20).body["claims"].size(), 1u);
  ASSERT_EQ(Admin("PUT", "/admin/degrade", {{"feature", "others_luck"}, {"mode", "off"}}).status,
            200);
  Reply page = client_->Get(path, 20);
  EXPECT_EQ(page.status, 200);
  EXPECT_EQ(page.body["claims"].size(), 0u);
  EXPECT_EQ(page.body["degraded_feature"], "others_luck");
  EXPECT_EQ(Admin("PUT", "/admin/degrade", {{"feature", "others_luck"}, {"mode", "sideways"}})
                .body["error"]["code"],
            "invalid_feature");
  ASSERT_EQ(Admin("PUT", "/admin/degrade", {{"feature", "others_luck"}, {"mode", "auto"}}).status,
            200);
  EXPECT_EQ(client_->Get(path, 20).body["claims"].size(), 1u);
}

}  // namespace
}  // namespace rp::testing
