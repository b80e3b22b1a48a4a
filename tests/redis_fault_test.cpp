// mem_lock and presplit with a real redis-server that fails: killed mid-storm, flushed mid-storm,
// restarted with stale counters. Never over-issued, never a lost or doubled claim; claims continue
// on the ledger path while Redis is away.
#include <gtest/gtest.h>

#include <signal.h>

#include <atomic>
#include <chrono>
#include <map>
#include <thread>

#include "server/base/redis_client.h"
#include "tests/support/harness.h"

namespace rp::testing {
namespace {

constexpr const char* kExists = "return redis.call('EXISTS', KEYS[1])";
constexpr const char* kLlen = "return redis.call('LLEN', KEYS[1])";
constexpr const char* kHlen = "return redis.call('HLEN', KEYS[1])";

class RedisFaultTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    redis_ = std::make_unique<RedisProcess>(dir_);
    StartServer();
  }
  void StartServer() {
    ServerConfig c = TestConfig(dir_);
    c.claim.scheme = GetParam();
    c.redis.url = redis_->url();
    c.server.threads = 4;
    server_ = std::make_unique<InProcessServer>(c);
    ASSERT_TRUE(server_->app);
    client_ = std::make_unique<Client>(server_->port);
  }
  // A new server process on the same ledger and the same (possibly stale) Redis.
  void RestartServer() {
    server_->app->Stop();
    server_.reset();
    StartServer();
  }
  void TearDown() override {
    if (server_ && server_->app) server_->app->Stop();
    EXPECT_TRUE(LedgerConserves(dir_.File("ledger.db")));
  }
  void Redis(const std::vector<std::string>& argv) {
    base::RedisPool pool({"127.0.0.1", redis_->port(), 1, 1000, 1000});
    ASSERT_TRUE(pool.Command(argv).ok());
  }
  // Polls Redis (bounded, 1 s) until the Lua expression returns want: presplit fills and gives
  // back indexes on its own threads after the claim's answer.
  bool AwaitRedis(const std::string& lua, const std::string& key, int64_t want) {
    base::RedisPool pool({"127.0.0.1", redis_->port(), 1, 1000, 1000});
    for (int i = 0; i < 500; ++i) {
      auto got = pool.EvalInt(lua, {key}, {});
      if (got.ok() && *got == want) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
    return false;
  }
  double Metric(const std::string& name) {
    std::string raw = client_->Send("GET", "/metrics", "", {}).raw;
    size_t at = raw.find("\n" + name);
    if (at == std::string::npos) return -1;
    return std::atof(raw.c_str() + raw.find(' ', at + 1) + 1);
  }
  // 16 threads claim `per_thread` times each on packet; `fault` runs once `trigger_at` claims
  // have been answered. Returns user -> amount for every 201, and checks every answer is a
  // 201, a 409 sold_out or (only while Redis is away) a 503.
  std::map<int64_t, int64_t> Storm(int64_t packet, int per_thread, int trigger_at,
                                   const std::function<void()>& fault) {
    std::map<int64_t, int64_t> won;
    std::mutex mu;
    std::atomic<int> answered{0};
    std::atomic<bool> fired{false};
    std::vector<std::thread> threads;
    for (int t = 0; t < 16; ++t) {
      threads.emplace_back([&, t] {
        Client c(server_->port);
        for (int i = 0; i < per_thread; ++i) {
          const int64_t user = 10000 * (t + 1) + i;
          Reply r = c.Claim(packet, user);
          EXPECT_TRUE(r.status == 201 || r.status == 409 || r.status == 503) << r.raw;
          if (r.status == 409) {
            EXPECT_EQ(r.body["error"]["code"], "sold_out");
          }
          if (r.status == 201) {
            std::lock_guard<std::mutex> lock(mu);
            won[user] = r.body["amount_cents"];
          }
          if (++answered == trigger_at && !fired.exchange(true)) fault();
        }
      });
    }
    for (auto& th : threads) th.join();
    return won;
  }
  void ExpectExact(int64_t packet, const std::map<int64_t, int64_t>& won, int64_t count,
                   int64_t total) {
    int64_t sum = 0;
    for (const auto& [user, cents] : won) sum += cents;
    EXPECT_EQ(static_cast<int64_t>(won.size()), count) << "winners";
    EXPECT_EQ(sum, total);
    Reply p = client_->Get("/v1/packets/" + std::to_string(packet), 1);
    EXPECT_EQ(p.body["claimed_count"], count);
    EXPECT_EQ(p.body["status"], "finished");
    for (const auto& [user, cents] : won) {  // Every acknowledged claim is in the ledger.
      Reply again = client_->Claim(packet, user);
      ASSERT_EQ(again.status, 200);
      EXPECT_EQ(again.body["amount_cents"], cents);
    }
  }

  TempDir dir_;
  std::unique_ptr<RedisProcess> redis_;
  std::unique_ptr<InProcessServer> server_;
  std::unique_ptr<Client> client_;
};

TEST_P(RedisFaultTest, RedisKilledMidStormClaimsContinueOnTheLedger) {
  const int64_t packet = PaidPacket(*client_, "killed", 20000, 200);
  auto won = Storm(packet, 25, 60, [&] { redis_->Kill(); });
  ExpectExact(packet, won, 200, 20000);
  EXPECT_GT(Metric("rp_scheme_fallbacks_total"), 0);
  EXPECT_GT(Metric("rp_redis_errors_total"), 0);
}

TEST_P(RedisFaultTest, FlushallMidStormIsRebuiltFromTheLedger) {
  const int64_t packet = PaidPacket(*client_, "flushed", 20000, 200);
  auto won = Storm(packet, 25, 60, [&] { Redis({"FLUSHALL"}); });
  ExpectExact(packet, won, 200, 20000);
}

TEST_P(RedisFaultTest, StaleStateNeverOverIssuesNorRefusesRealShares) {
  if (GetParam() == "presplit") {
    // A list emptied (or lost) while the "split" flag says it was filled: Redis claims sold
    // out; the read side knows better and the claim takes a share from the ledger.
    const int64_t p = PaidPacket(*client_, "stale-list", 1000, 10);
    ASSERT_EQ(client_->Claim(p, 1).status, 201);
    ASSERT_TRUE(AwaitRedis(kExists, "rp:split:" + std::to_string(p), 1));
    Redis({"DEL", "rp:shares:" + std::to_string(p)});
    auto won = Storm(p, 3, 1000000, [] {});
    EXPECT_EQ(won.size(), 9u);
    EXPECT_GT(Metric("rp_scheme_divergences_total"), 0);
    EXPECT_EQ(client_->Claim(p, 1).status, 200);
    return;
  }
  // Too high: a restored snapshot from before most claims.
  const int64_t high = PaidPacket(*client_, "stale-high", 1000, 10);
  ASSERT_EQ(client_->Claim(high, 1).status, 201);  // Creates the counter (9 left).
  Redis({"SET", "rp:left:" + std::to_string(high), "500"});
  Redis({"DEL", "rp:users:" + std::to_string(high)});
  auto won_high = Storm(high, 3, 1000000, [] {});
  EXPECT_EQ(won_high.size(), 9u);  // Exactly the 9 real shares, the ledger decides.
  // Too low: the counter says sold out while the ledger has shares.
  const int64_t low = PaidPacket(*client_, "stale-low", 1000, 10);
  ASSERT_EQ(client_->Claim(low, 1).status, 201);
  Redis({"SET", "rp:left:" + std::to_string(low), "0"});
  auto won_low = Storm(low, 3, 1000000, [] {});
  EXPECT_EQ(won_low.size(), 9u);  // Resynced from the read side; no share refused.
  EXPECT_GT(Metric("rp_scheme_divergences_total"), 0);
  // A repeat claimer after sell-out is answered from the ledger, 200 with the original.
  EXPECT_EQ(client_->Claim(low, 1).status, 200);
}

// What an earlier process (or a restored Redis snapshot) left in Redis is not trusted: start-up
// drops the open packets' Redis state and their first claims rebuild it from the ledger, so a
// stale "sold out" is never even seen (no divergence), and exactly the real shares are won.
TEST_P(RedisFaultTest, StaleStateFromAnEarlierProcessIsDroppedAtStartUp) {
  const int64_t p = PaidPacket(*client_, "restart", 1000, 10);
  const std::string id = std::to_string(p);
  ASSERT_EQ(client_->Claim(p, 1).status, 201);
  if (GetParam() == "mem_lock") {
    Redis({"SET", "rp:left:" + id, "0"});  // The counter says sold out; 9 shares are left.
  } else {
    ASSERT_TRUE(AwaitRedis(kExists, "rp:split:" + id, 1));  // The fill has finished...
    Redis({"DEL", "rp:shares:" + id});                      // ...and its list is lost.
  }
  RestartServer();
  ASSERT_EQ(client_->Claim(p, 2).status, 201);
  EXPECT_EQ(Metric("rp_scheme_divergences_total"), 0);
  auto won = Storm(p, 1, 1000000, [] {});
  EXPECT_EQ(won.size(), 8u);
  EXPECT_EQ(client_->Claim(p, 1).status, 200);  // The claim made before the restart.
}

// mem_lock only: once the ledger showed a packet finished, claims by anyone but its claimers are
// refused in-process — with Redis gone they are still plain 409s, not fallbacks to the ledger —
// while a claimer still gets their claim back from the ledger. Both ways a refusal reaches the
// ledger are played: the counter says 0 (checked on the read side), and a counter left too high
// (the claim goes through to the ledger's claim transaction, which refuses it).
TEST_P(RedisFaultTest, MemLockRefusesClaimsOnAFinishedPacketWithoutRedis) {
  if (GetParam() != "mem_lock") GTEST_SKIP() << "mem_lock's final-packet refusals";
  const int64_t by_zero = PaidPacket(*client_, "final-zero", 500, 5);
  const int64_t by_high = PaidPacket(*client_, "final-high", 500, 5);
  for (int64_t user = 1; user <= 5; ++user) {
    ASSERT_EQ(client_->Claim(by_zero, user).status, 201);
    ASSERT_EQ(client_->Claim(by_high, user).status, 201);
  }
  // The counters are set here, not left to the upkeep that runs after each claim on a pool.
  Redis({"SET", "rp:left:" + std::to_string(by_zero), "0"});
  Redis({"SET", "rp:left:" + std::to_string(by_high), "3"});
  for (int64_t packet : {by_zero, by_high}) {
    Reply first = client_->Claim(packet, 100);  // The ledger confirms: finished.
    ASSERT_EQ(first.status, 409) << first.raw;
  }
  redis_->Kill();
  const double fallbacks = Metric("rp_scheme_fallbacks_total");
  for (int64_t user = 101; user <= 125; ++user) {
    for (int64_t packet : {by_zero, by_high}) {
      Reply r = client_->Claim(packet, user);
      ASSERT_EQ(r.status, 409) << r.raw;
      EXPECT_EQ(r.body["error"]["code"], "sold_out");
    }
  }
  EXPECT_EQ(Metric("rp_scheme_fallbacks_total"), fallbacks);  // None of them needed Redis.
  Reply repeat = client_->Claim(by_high, 3);
  EXPECT_EQ(repeat.status, 200) << repeat.raw;  // A claimer: answered from the ledger.
  EXPECT_EQ(Metric("rp_scheme_fallbacks_total"), fallbacks + 1);
}

// A frozen Redis (SIGSTOP: connections open, no replies) costs every command its deadline. The
// counter's upkeep after a ledger claim must not be paid on the ledger's writer: there it held
// every claim of the packet behind two command deadlines each (80 claims took over 8 s).
TEST_P(RedisFaultTest, FrozenRedisNeverHoldsTheLedgerWriter) {
  if (GetParam() != "mem_lock") GTEST_SKIP() << "mem_lock's counter upkeep";
  const int64_t packet = PaidPacket(*client_, "frozen", 20000, 200);
  ASSERT_EQ(::kill(redis_->pid(), SIGSTOP), 0);
  const auto start = std::chrono::steady_clock::now();
  auto won = Storm(packet, 5, -1, [] {});
  const auto took_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                           std::chrono::steady_clock::now() - start)
                           .count();
  ASSERT_EQ(::kill(redis_->pid(), SIGCONT), 0);
  EXPECT_EQ(won.size(), 80u);  // Every claim won on the ledger alone.
  // A liveness bound, not a speed target: 80 claims with the writer free take well under a
  // second here; with the writer held, 80 x 2 x 50 ms at least.
  EXPECT_LT(took_ms, 4000) << "80 claims with Redis frozen took " << took_ms << " ms";
  EXPECT_GT(Metric("rp_scheme_fallbacks_total"), 0);
}

// presplit only: a list found short of the ledger's free shares is filled again from the ledger.
TEST_P(RedisFaultTest, PresplitListLostWhileServingIsRefilledFromTheLedger) {
  if (GetParam() != "presplit") GTEST_SKIP() << "presplit's share list";
  const int64_t p = PaidPacket(*client_, "refill", 1000, 10);
  const std::string id = std::to_string(p);
  ASSERT_TRUE(AwaitRedis(kExists, "rp:split:" + id, 1));
  Redis({"DEL", "rp:shares:" + id});
  ASSERT_EQ(client_->Claim(p, 1).status, 201);  // Diverged: the ledger path, and a refill.
  EXPECT_EQ(Metric("rp_scheme_divergences_total"), 1);
  ASSERT_TRUE(AwaitRedis(kExists, "rp:split:" + id, 1));
  EXPECT_TRUE(AwaitRedis(kLlen, "rp:shares:" + id, 9));  // The 9 free shares, from the ledger.
  for (int64_t user = 2; user <= 10; ++user) ASSERT_EQ(client_->Claim(p, user).status, 201);
  EXPECT_EQ(client_->Claim(p, 11).status, 409);
  EXPECT_EQ(Metric("rp_scheme_divergences_total"), 1);  // Redis was right again after the refill.
}

// presplit only: the indexes are in Redis as soon as the packet is created, and an index popped
// by a claim the ledger refused (here: the packet is not paid yet) goes back to the list, so the
// packet never looks sold out to Redis while it has shares.
TEST_P(RedisFaultTest, PresplitIndexesOfRefusedClaimsGoBack) {
  if (GetParam() != "presplit") GTEST_SKIP() << "presplit's share list";
  Reply sent = client_->SendPacket(1, "unpaid-first", 1000, 10);
  ASSERT_EQ(sent.status, 201);
  const std::string id = std::to_string(static_cast<int64_t>(sent.body["packet_id"]));
  ASSERT_TRUE(AwaitRedis(kExists, "rp:split:" + id, 1));  // Filled at creation.
  for (int64_t user = 100; user < 110; ++user) {
    Reply r = client_->Claim(sent.body["packet_id"], user);
    ASSERT_EQ(r.status, 409) << r.raw;
    EXPECT_EQ(r.body["error"]["code"], "not_claimable");
  }
  ASSERT_TRUE(AwaitRedis(kLlen, "rp:shares:" + id, 10));  // All ten given back.
  ASSERT_TRUE(AwaitRedis(kHlen, "rp:holders:" + id, 0));
  ASSERT_EQ(client_->Pay(sent.body["pay_order_no"], "paid", 1000).status, 200);
  // One claim at a time: a loser racing the last winner's pop can be counted as a (harmless)
  // divergence; sequential claims leave only a stale list to cause one.
  std::map<int64_t, int64_t> won;
  for (int64_t user = 200; user < 212; ++user) {
    Reply r = client_->Claim(sent.body["packet_id"], user);
    if (r.status == 201) won[user] = r.body["amount_cents"];
    EXPECT_EQ(r.status, user < 210 ? 201 : 409) << r.raw;
  }
  ExpectExact(sent.body["packet_id"], won, 10, 1000);
  EXPECT_EQ(Metric("rp_scheme_divergences_total"), 0);  // Redis never claimed a false sold-out.
  EXPECT_EQ(Metric("rp_scheme_fallbacks_total"), 0);
}

// A user comparing schemes restarts the server under another one on the same ledger, between
// claims of one packet. The schemes keep different state (presplit's share rows, Redis lists);
// whatever the order, the packet must go on being claimed to exactly its total, and nothing a
// claimer does may reach an invariant check (it once did: a crash loop on the next claim).
class SchemeSwitchTest : public ::testing::Test {
 protected:
  void SetUp() override { redis_ = std::make_unique<RedisProcess>(dir_); }
  void TearDown() override {
    if (server_ && server_->app) server_->app->Stop();
    EXPECT_TRUE(LedgerConserves(dir_.File("ledger.db")));
  }
  void StartUnder(const std::string& scheme) {
    if (server_ && server_->app) server_->app->Stop();
    server_.reset();
    ServerConfig c = TestConfig(dir_);
    c.claim.scheme = scheme;
    c.redis.url = redis_->url();
    server_ = std::make_unique<InProcessServer>(c);
    ASSERT_TRUE(server_->app);
    client_ = std::make_unique<Client>(server_->port);
  }

  TempDir dir_;
  std::unique_ptr<RedisProcess> redis_;
  std::unique_ptr<InProcessServer> server_;
  std::unique_ptr<Client> client_;
};

TEST_F(SchemeSwitchTest, APacketIsClaimedToItsTotalWhateverTheOrderOfSchemes) {
  const std::vector<std::vector<std::string>> orders = {
      {"db_lock", "presplit", "db_lock", "presplit"},
      {"presplit", "db_lock", "presplit"},
      {"presplit", "batched", "mem_lock", "presplit", "db_lock"},
      {"mem_lock", "presplit", "presplit", "batched"}};
  constexpr int64_t kCount = 12, kTotal = 1000;
  int64_t user = 5000;
  for (size_t o = 0; o < orders.size(); ++o) {
    const std::vector<std::string>& order = orders[o];
    StartUnder(order[0]);
    Reply sent = client_->SendPacket(1, "switch-" + std::to_string(o), kTotal, kCount);
    ASSERT_EQ(sent.status, 201) << sent.raw;
    ASSERT_EQ(client_->Pay(sent.body["pay_order_no"], "paid", kTotal).status, 200);
    const int64_t packet = sent.body["packet_id"];
    std::map<int64_t, int64_t> won;
    for (size_t stage = 0; stage < order.size(); ++stage) {
      if (stage > 0) StartUnder(order[stage]);
      const bool last = stage + 1 == order.size();
      for (int i = 0; i < (last ? kCount + 2 : 3); ++i, ++user) {
        Reply r = client_->Claim(packet, user);
        if (r.status == 201) {
          won[user] = r.body["amount_cents"];
          continue;
        }
        ASSERT_EQ(r.status, 409) << order[stage] << " at stage " << stage << ": " << r.raw;
        EXPECT_EQ(r.body["error"]["code"], "sold_out");
        EXPECT_TRUE(last);
      }
    }
    int64_t sum = 0;
    for (const auto& [u, cents] : won) sum += cents;
    EXPECT_EQ(static_cast<int64_t>(won.size()), kCount) << "order " << o;
    EXPECT_EQ(sum, kTotal) << "order " << o;
    for (const auto& [u, cents] : won) {  // Every claim, as acknowledged, under the last scheme.
      Reply again = client_->Claim(packet, u);
      ASSERT_EQ(again.status, 200) << again.raw;
      EXPECT_EQ(again.body["amount_cents"], cents);
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Schemes, RedisFaultTest, ::testing::Values("mem_lock", "presplit"),
                         [](const auto& param_info) { return param_info.param; });

}  // namespace
}  // namespace rp::testing
