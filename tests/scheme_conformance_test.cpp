// One conformance suite for every claim scheme: under real concurrency over HTTP, exactly
// `count` winners, exact sums, idempotent replays, one claim per user even when the same user
// races itself, and the ledger invariant afterwards.
#include <gtest/gtest.h>

#include <atomic>
#include <map>
#include <mutex>
#include <set>
#include <thread>

#include "common/claim_schemes.h"
#include "tests/support/harness.h"

namespace rp::testing {
namespace {

class SchemeConformanceTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    ServerConfig c = TestConfig(dir_);
    c.claim.scheme = GetParam();
    if (FindClaimScheme(GetParam())->needs_redis) {
      redis_ = std::make_unique<RedisProcess>(dir_);
      c.redis.url = redis_->url();
    }
    c.server.threads = 4;
    server_ = std::make_unique<InProcessServer>(c);
    ASSERT_TRUE(server_->app);
    client_ = std::make_unique<Client>(server_->port);
  }
  void TearDown() override {
    if (server_ && server_->app) server_->app->Stop();
    EXPECT_TRUE(LedgerConserves(dir_.File("ledger.db")));
  }
  // Runs `claimers` threads, each claiming (packet_of(i), user_of(i)); returns the replies.
  std::vector<Reply> Storm(int claimers, const std::function<int64_t(int)>& packet_of,
                           const std::function<int64_t(int)>& user_of) {
    std::vector<Reply> replies(static_cast<size_t>(claimers));
    std::vector<std::thread> threads;
    std::atomic<int> ready{0};
    for (int i = 0; i < claimers; ++i) {
      threads.emplace_back([&, i] {
        Client c(server_->port);
        ++ready;
        while (ready.load() < claimers) std::this_thread::yield();
        replies[static_cast<size_t>(i)] = c.Claim(packet_of(i), user_of(i));
      });
    }
    for (auto& t : threads) t.join();
    return replies;
  }
  TempDir dir_;
  std::unique_ptr<RedisProcess> redis_;
  std::unique_ptr<InProcessServer> server_;
  std::unique_ptr<Client> client_;
};

TEST_P(SchemeConformanceTest, HotPacketHasExactlyCountWinnersAndExactSum) {
  const int64_t packet = PaidPacket(*client_, "hot", 5000, 50);
  std::vector<Reply> replies = Storm(
      120, [&](int) { return packet; }, [](int i) { return 1000 + i; });
  int64_t sum = 0;
  int winners = 0;
  for (const Reply& r : replies) {
    if (r.status == 201) {
      ++winners;
      sum += r.body["amount_cents"].get<int64_t>();
    } else {
      EXPECT_EQ(r.body["error"]["code"], "sold_out") << r.raw;
    }
  }
  EXPECT_EQ(winners, 50);
  EXPECT_EQ(sum, 5000);
  if (redis_) {  // With Redis healthy, the Redis path did the work: no claim fell back.
    std::string metrics = client_->Send("GET", "/metrics", "", {}).raw;
    EXPECT_NE(metrics.find("rp_scheme_fallbacks_total{scheme=\"" + GetParam() + "\"} 0"),
              std::string::npos)
        << metrics.substr(metrics.find("rp_scheme_fallbacks_total{"), 120);
    EXPECT_NE(metrics.find("rp_redis_errors_total 0"), std::string::npos)
        << metrics.substr(metrics.find("rp_scheme"));
  }
  for (size_t i = 0; i < replies.size(); ++i) {  // Replays return the original.
    if (replies[i].status != 201) continue;
    Reply again = client_->Claim(packet, 1000 + static_cast<int64_t>(i));
    EXPECT_EQ(again.status, 200);
    EXPECT_EQ(again.body["claim_id"], replies[i].body["claim_id"]);
    EXPECT_EQ(again.body["amount_cents"], replies[i].body["amount_cents"]);
  }
}

TEST_P(SchemeConformanceTest, SpreadOverPacketsEveryPacketBalances) {
  std::vector<int64_t> packets;
  for (int i = 0; i < 10; ++i)
    packets.push_back(PaidPacket(*client_, "spread-" + std::to_string(i), 1000, 10));
  std::vector<Reply> replies = Storm(
      150, [&](int i) { return packets[static_cast<size_t>(i % 10)]; },
      [](int i) { return 5000 + i; });
  std::map<int64_t, int64_t> sums, wins;
  for (size_t i = 0; i < replies.size(); ++i) {
    if (replies[i].status != 201) continue;
    sums[replies[i].body["packet_id"]] += replies[i].body["amount_cents"].get<int64_t>();
    ++wins[replies[i].body["packet_id"]];
  }
  for (int64_t p : packets) {
    EXPECT_EQ(wins[p], 10) << "packet " << p;
    EXPECT_EQ(sums[p], 1000) << "packet " << p;
  }
}

TEST_P(SchemeConformanceTest, AUserRacingItselfGetsOneClaim) {
  const int64_t packet = PaidPacket(*client_, "self", 1000, 10);
  std::vector<Reply> replies = Storm(
      16, [&](int) { return packet; }, [](int) { return 77; });
  int created = 0;
  std::set<int64_t> ids;
  for (const Reply& r : replies) {
    ASSERT_TRUE(r.status == 201 || r.status == 200) << r.raw;
    created += r.status == 201;
    ids.insert(r.body["claim_id"].get<int64_t>());
  }
  EXPECT_EQ(created, 1);
  EXPECT_EQ(ids.size(), 1u);
  EXPECT_EQ(client_->Get("/v1/packets/" + std::to_string(packet), 1).body["claimed_count"], 1);
}

INSTANTIATE_TEST_SUITE_P(Schemes, SchemeConformanceTest, ::testing::ValuesIn(ClaimSchemeNames()),
                         [](const auto& param_info) { return param_info.param; });

}  // namespace
}  // namespace rp::testing
