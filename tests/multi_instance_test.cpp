// The instance tier: two rp-server processes over one PostgreSQL ledger, each with its async
// workers, behind a real HAProxy that sends every request about one packet to one instance.
// One instance is killed with SIGKILL in the middle of a claim storm: its packets move to the
// other, every acknowledged claim is still there, every claim is transferred exactly once by the
// two instances' workers together, and every packet balances. PostgreSQL only: two processes
// cannot share the embedded ledger.
#include <gtest/gtest.h>
#include <signal.h>

#include <atomic>
#include <fstream>
#include <map>
#include <mutex>
#include <random>
#include <thread>

#include "common/claim_schemes.h"
#include "common/crypto.h"
#include "common/process/haproxy_process.h"
#include "common/process/redis_process.h"
#include "tests/support/harness.h"

namespace rp::testing {
namespace {

using nlohmann::json;

constexpr int kInstances = 2;

struct Won {
  int64_t claim_id = 0, amount_cents = 0;
};

// The sum of a metric's samples on one instance, over the label sets containing `labels`; -1
// when the instance does not answer.
double MetricSum(int port, const std::string& name, const std::string& labels = "") {
  Client c(port);
  Reply r = c.Send("GET", "/metrics", "", {});
  if (r.status != 200) return -1;
  double sum = 0;
  for (size_t at = r.raw.find("\n" + name); at != std::string::npos;
       at = r.raw.find("\n" + name, at + 1)) {
    const char next = r.raw[at + 1 + name.size()];
    if (next != '{' && next != ' ') continue;  // A longer name with this prefix.
    const size_t end = r.raw.find('\n', at + 1);
    if (r.raw.substr(at, end - at).find(labels) == std::string::npos) continue;
    sum += std::atof(r.raw.c_str() + r.raw.rfind(' ', end) + 1);  // Labels may hold spaces.
  }
  return sum;
}

class MultiInstanceTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    if (!OnPostgres()) GTEST_SKIP() << "several instances need the PostgreSQL ledger";
    mock_ = std::make_unique<MockProcess>(dir_);
    ASSERT_FALSE(mock_->url().empty());
    redis_ = std::make_unique<RedisProcess>(dir_);
    for (int i = 0; i < kInstances; ++i) ports_.push_back(FreeLoopbackPort());
    proxy_ = std::make_unique<HaproxyProcess>(dir_.File("haproxy"), ports_);
    // Payment callbacks come back through the proxy, as they would to a real deployment.
    std::ofstream(dir_.File("config.yaml"))
        << "async:\n  idle_poll_ms: 10\n  retry_base_ms: 10\n  retry_max_ms: 200\n"
        << "  call_deadline_ms: 500\n  failed_after_attempts: 3\n"
        // The killed instance's leased tasks reappear for the other's workers after this.
        << "  lease_ms: 2000\n"
        << "payment:\n  poll_ms: 100\n  notify_url: " << proxy_->url()
        << "/v1/payments/callback\nrecon:\n  interval_ms: 0\nscanner:\n  interval_ms: 50\n";
    for (int i = 0; i < kInstances; ++i) StartInstance(i);
    ASSERT_TRUE(proxy_->Start().ok()) << proxy_->Config();
    client_ = std::make_unique<Client>(proxy_->port());
  }
  void TearDown() override {
    if (!OnPostgres()) return;
    for (auto& s : servers_) {
      if (!s || s->port() == 0) continue;
      s->child().Signal(SIGTERM);
      EXPECT_EQ(*s->child().Wait(15000), 0);
    }
    EXPECT_TRUE(LedgerConserves(dir_.File("ledger.db")));
  }
  void StartInstance(int i) {
    servers_.resize(kInstances);
    servers_[i].reset();
    servers_[i] = std::make_unique<ServerProcess>(
        dir_,
        std::vector<std::string>{"--config", dir_.File("config.yaml"), "--mocks", mock_->url(),
                                 "--redis", redis_->url(), "--claim-scheme", GetParam()},
        ports_[i], "server" + std::to_string(i) + ".log");
    ASSERT_EQ(servers_[i]->port(), ports_[i]);
  }
  // A C2C packet paid through the mock's payment service, active once the callback (through
  // the proxy) or the poller activated it.
  json Recon() {
    std::string token = auth::MintAdminToken(kAuthSecret, std::time(nullptr) + 600);
    return client_->Send("GET", "/admin/recon", "", {{"Authorization", "Bearer " + token}}).body;
  }
  bool Settled() {
    json r = Recon();
    return r.is_object() && r["c2c"]["transfer_pending_cents"] == 0 &&
           r["c2c"]["refund_pending_cents"] == 0;
  }
  // One claim, retried (same user: claims are idempotent) while the proxy answers that its
  // instance is gone (502/503, or the connection dropped). Counts those answers in *retried.
  Reply ClaimThroughFailover(Client& c, int64_t packet, int64_t user, std::atomic<int>* retried) {
    Reply r;
    for (int attempt = 0; attempt < 50; ++attempt) {
      r = c.Claim(packet, user);
      if (r.status != 0 && r.status != 502 && r.status != 503) return r;
      ++*retried;
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return r;
  }

  TempDir dir_;
  std::unique_ptr<MockProcess> mock_;
  std::unique_ptr<RedisProcess> redis_;
  std::vector<int> ports_;
  std::unique_ptr<HaproxyProcess> proxy_;
  std::vector<std::unique_ptr<ServerProcess>> servers_;
  std::unique_ptr<Client> client_;
};

TEST_P(MultiInstanceTest, EveryRequestOfOnePacketReachesOneInstance) {
  const int64_t packet = PacketActivatedByPaymentService(*client_, "affinity", 4000, 40);
  const double before0 = MetricSum(ports_[0], "rp_claims_total");
  const double before1 = MetricSum(ports_[1], "rp_claims_total");
  for (int u = 0; u < 30; ++u) ASSERT_EQ(client_->Claim(packet, 700 + u).status, 201);
  // Other spellings of the packet's path: HAProxy merges repeated slashes before it hashes, so
  // they reach the same instance; the server answers every other spelling 404 (a dot segment)
  // or 400 (a zero-padded id), so no spelling is served by the packet's other instance.
  const std::string id = std::to_string(packet);
  const api::Credentials creds{kAuthSecret, kPaymentSecret};
  int64_t user = 800;
  for (const std::string& path :
       {"//v1/packets/" + id + "/claims", "/v1//packets///" + id + "/claims"}) {
    api::Request spelled = api::Claim(creds, packet, ++user);
    spelled.path = path;
    EXPECT_EQ(client_->Send(spelled).status, 201) << path;
  }
  for (const auto& [path, status] : std::vector<std::pair<std::string, int>>{
           {"/v1/packets/./" + id + "/claims", 404}, {"/v1/packets/0" + id + "/claims", 400}}) {
    api::Request refused = api::Claim(creds, packet, ++user);
    refused.path = path;
    EXPECT_EQ(client_->Send(refused).status, status) << path;
  }
  const double grew0 = MetricSum(ports_[0], "rp_claims_total") - before0;
  const double grew1 = MetricSum(ports_[1], "rp_claims_total") - before1;
  EXPECT_EQ(grew0 + grew1, 32);
  EXPECT_TRUE(grew0 == 0 || grew1 == 0) << "instance 0 took " << grew0 << ", instance 1 " << grew1;
}

TEST_P(MultiInstanceTest, KillingAnInstanceMidStormMovesItsPacketsAndLosesNothing) {
  constexpr int kPackets = 16, kShares = 40, kThreads = 12, kKillAfterAcks = 150;
  std::vector<int64_t> packets;
  for (int i = 0; i < kPackets; ++i) {
    packets.push_back(
        PacketActivatedByPaymentService(*client_, "mi-" + std::to_string(i), 4000, kShares));
  }
  std::mutex mu;
  std::map<std::pair<int64_t, int64_t>, Won> won;  // (packet, user) -> the acknowledged claim
  std::atomic<int> acks{0}, retried{0}, acks_after_kill{0};
  std::atomic<bool> killed{false};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      Client c(proxy_->port());
      std::mt19937_64 rng(static_cast<uint64_t>(t) + 1);
      for (int i = 0; i < 60; ++i) {
        const int64_t packet = packets[rng() % packets.size()];
        const int64_t user = 10000 + t * 1000 + i;
        Reply r = ClaimThroughFailover(c, packet, user, &retried);
        ASSERT_TRUE(r.status == 201 || r.status == 200 || r.status == 409) << r.status << r.raw;
        if (r.status == 409) continue;  // Sold out.
        std::lock_guard<std::mutex> lock(mu);
        won[{packet, user}] = {r.body["claim_id"], r.body["amount_cents"]};
        if (killed) ++acks_after_kill;
        if (++acks == kKillAfterAcks && !killed.exchange(true)) {
          servers_[0]->child().Signal(SIGKILL);
          (void)servers_[0]->child().Wait(
              5000);  // Reaped here or by its destructor: dead either way.
        }
      }
    });
  }
  for (auto& th : threads) th.join();
  ASSERT_TRUE(killed.load()) << "the storm ended before the kill";
  EXPECT_GT(acks_after_kill.load(), 0) << "no claim was served after the kill";
  std::printf("claims acknowledged %zu (%d after the kill), answers retried %d\n", won.size(),
              acks_after_kill.load(), retried.load());
  // Every acknowledged claim is there, through the surviving instance, unchanged.
  for (const auto& [key, w] : won) {
    Reply r = client_->Claim(key.first, key.second);
    ASSERT_EQ(r.status, 200) << "acknowledged claim lost: packet " << key.first;
    EXPECT_EQ(r.body["claim_id"], w.claim_id);
    EXPECT_EQ(r.body["amount_cents"], w.amount_cents);
  }
  // The killed instance comes back on its port and takes traffic again.
  StartInstance(0);
  ASSERT_TRUE(Eventually(
      [&] {
        // The answers do not matter: the instance's request counter says a read reached it.
        for (int64_t p : packets) (void)client_->Get("/v1/packets/" + std::to_string(p), 1);
        return MetricSum(ports_[0], "rp_http_requests_total", "GET /v1/packets/{id}\"") > 0;
      },
      10000))
      << "the restarted instance got no requests through the proxy";
  // The two instances' workers transferred every claim exactly once between them, including the
  // tasks the killed one held leases on.
  ASSERT_TRUE(Eventually([&] { return Settled(); }, 60000)) << Recon().dump();
  EXPECT_TRUE(Recon()["clean"].get<bool>()) << Recon().dump(2);
  std::map<int64_t, int64_t> per_user;
  for (const auto& [key, w] : won) per_user[key.second] += w.amount_cents;
  for (const auto& [user, cents] : per_user) {
    EXPECT_EQ(mock_->Get("/wallet/balance/" + std::to_string(user))["balance_cents"], cents);
  }
}

INSTANTIATE_TEST_SUITE_P(Schemes, MultiInstanceTest, ::testing::ValuesIn(ClaimSchemeNames()));

}  // namespace
}  // namespace rp::testing
