// End to end with real processes on loopback: rp-mock (payment, wallet, reward, social) and
// rp-server, with the mock's switches making the outside world slow, flaky or down.
#include <gtest/gtest.h>
#include <httplib.h>
#include <signal.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <set>
#include <thread>

#include "common/crypto.h"
#include "server/ledger/engine.h"
#include "server/ledger/tamper.h"
#include "server/recon/recon.h"
#include "tests/support/harness.h"

namespace rp::testing {
namespace {

using nlohmann::json;

// A B2C send body funded by a subsidy token.
std::string B2cBody(const std::string& order_no, const json& total_cents, int64_t count,
                    const json& token, const std::string& split = "random") {
  return json{{"order_no", order_no}, {"kind", "b2c"},         {"total_cents", total_cents},
              {"count", count},       {"split", split},        {"audience", "public"},
              {"video_id", "v"},      {"subsidy_token", token}}
      .dump();
}

class MockE2eTest : public ::testing::Test {
 protected:
  // Extra lines for the server's config file, and extra flags.
  virtual std::string ExtraConfig() { return ""; }
  virtual std::vector<std::string> ExtraArgs() { return {}; }
  void SetUp() override {
    mock_ = std::make_unique<MockProcess>(dir_);
    ASSERT_FALSE(mock_->url().empty());
    std::ofstream(dir_.File("config.yaml"))
        << "async:\n  idle_poll_ms: 10\n  retry_base_ms: 10\n  retry_max_ms: 200\n"
        << "  call_deadline_ms: 500\n  failed_after_attempts: 3\n"
        << "payment:\n  poll_ms: 100\nrecon:\n  interval_ms: 0\nscanner:\n  interval_ms: 50\n"
        << ExtraConfig();
    std::vector<std::string> args = {"--config",   dir_.File("config.yaml"), "--mocks",
                                     mock_->url(), "--packet-ttl",           "2"};
    for (const std::string& a : ExtraArgs()) args.push_back(a);
    server_ = std::make_unique<ServerProcess>(dir_, args);
    ASSERT_GT(server_->port(), 0);
    client_ = std::make_unique<Client>(server_->port());
  }
  void TearDown() override {
    if (server_ && server_->port() > 0) {
      server_->child().Signal(SIGTERM);
      EXPECT_EQ(*server_->child().Wait(15000), 0);
    }
    EXPECT_TRUE(LedgerConserves(dir_.File("ledger.db")));
  }
  json Recon() {
    std::string token = auth::MintAdminToken(kAuthSecret, std::time(nullptr) + 600);
    return client_->Send("GET", "/admin/recon", "", {{"Authorization", "Bearer " + token}}).body;
  }
  std::string MetricsText() { return client_->Send("GET", "/metrics", "", {}).raw; }
  bool Settled() {
    json r = Recon();
    return r.is_object() && r["c2c"]["transfer_pending_cents"] == 0 &&
           r["c2c"]["refund_pending_cents"] == 0 && r["b2c"]["transfer_pending_cents"] == 0;
  }

  TempDir dir_;
  std::unique_ptr<MockProcess> mock_;
  std::unique_ptr<ServerProcess> server_;
  std::unique_ptr<Client> client_;
};

TEST_F(MockE2eTest, FlakyWalletAndDuplicatedCallbacksStillTransferEachClaimOnce) {
  mock_->Switch({{"service", "wallet"}, {"endpoint", "*"}, {"error_rate", 0.3}});
  mock_->Switch({{"service", "wallet"},
                 {"endpoint", "transfers"},
                 {"error_rate", 0.15},
                 {"timeout_rate", 0.15},
                 {"hang_ms", 700}});
  mock_->Switch({{"service", "payment"}, {"endpoint", "callback"}, {"duplicate_rate", 1.0}});
  std::vector<int64_t> packets;
  for (int i = 0; i < 3; ++i)
    packets.push_back(
        PacketActivatedByPaymentService(*client_, "flaky-" + std::to_string(i), 2000, 20));
  std::map<int64_t, int64_t> won;  // user -> amount
  for (int64_t packet : packets) {
    for (int u = 0; u < 20; ++u) {
      Reply r = client_->Claim(packet, 100 * packet + u);
      ASSERT_EQ(r.status, 201);
      won[100 * packet + u] += r.body["amount_cents"].get<int64_t>();
    }
  }
  ASSERT_TRUE(Eventually([&] { return Settled(); }, 60000)) << Recon().dump();
  json report = Recon();
  EXPECT_TRUE(report["clean"].get<bool>()) << report.dump(2);
  EXPECT_EQ(report["c2c"]["transferred_cents_wallet"], 6000);
  mock_->ResetSwitches();  // The test's own reads below must not be failed by the switches.
  for (const auto& [user, cents] : won) {  // Every claimer was credited exactly once.
    EXPECT_EQ(mock_->Get("/wallet/balance/" + std::to_string(user))["balance_cents"], cents);
  }
  // Both sides of the run on /metrics, each clean for Prometheus' own checker after traffic,
  // faults, retries and breaker transitions (every family with its labels has appeared).
  EXPECT_EQ(PromtoolProblems(MetricsText()), "");
  const std::string mock_metrics = mock_->GetText("/metrics");
  EXPECT_EQ(PromtoolProblems(mock_metrics), "");
  EXPECT_NE(mock_metrics.find("rp_mock_calls_total{endpoint=\"transfers\",service=\"wallet\"}"),
            std::string::npos)
      << mock_metrics;
  EXPECT_NE(
      mock_metrics.find("rp_mock_faults_injected_total{endpoint=\"callback\",fault=\"duplicate\","
                        "service=\"payment\"} 3"),
      std::string::npos)
      << mock_metrics;
}

TEST_F(MockE2eTest, TransfersWaitWhileTheWalletIsDownAndCompleteAfter) {
  const int64_t packet = PacketActivatedByPaymentService(*client_, "down", 1000, 10);
  mock_->Switch({{"service", "wallet"}, {"endpoint", "*"}, {"down", true}});
  for (int u = 1; u <= 10; ++u) ASSERT_EQ(client_->Claim(packet, u).status, 201);
  ASSERT_TRUE(
      Eventually([&] { return client_->Claim(packet, 1).body["status"] == "transfer_failed"; }));
  EXPECT_EQ(mock_->Get("/wallet/transfers")["transfers"].size(), 0u);
  // The wallet's breaker opens: the workers stop calling it and their transfers wait.
  const std::string breaker =
      "rp_breaker_state{endpoint=\"/wallet/transfers\",service=\"wallet\"} ";
  ASSERT_TRUE(Eventually([&] { return MetricsText().find(breaker + "1") != std::string::npos; }));
  mock_->Switch({{"service", "wallet"}, {"endpoint", "*"}, {"down", false}});
  ASSERT_TRUE(Eventually([&] { return Settled(); }, 60000));
  EXPECT_EQ(mock_->Get("/wallet/transfers")["transfers"].size(), 10u);
  // The wallet answers before the ledger records its answer: the claim moves to transferred in
  // the worker's next commit, so wait for it rather than racing it.
  EXPECT_TRUE(
      Eventually([&] { return client_->Claim(packet, 1).body["status"] == "transferred"; }));
  // Its probes succeeded: closed again.
  EXPECT_TRUE(Eventually([&] { return MetricsText().find(breaker + "0") != std::string::npos; }));
  EXPECT_NE(MetricsText().find("rp_breaker_calls_refused_total{endpoint=\"/wallet/transfers\""),
            std::string::npos);
  EXPECT_TRUE(Recon()["clean"].get<bool>());
}

TEST_F(MockE2eTest, PaymentWithALostCallbackIsActivatedByPolling) {
  mock_->Switch({{"service", "payment"}, {"endpoint", "callback"}, {"error_rate", 1.0}});
  Reply sent = client_->SendPacket(1, "lost", 700, 7);
  ASSERT_EQ(sent.status, 201);
  const std::string path = "/v1/packets/" + std::to_string(sent.body["packet_id"].get<int64_t>());
  ASSERT_TRUE(Eventually([&] { return client_->Get(path, 1).body["status"] == "active"; }));
  EXPECT_EQ(mock_->Get("/pay/orders/" + sent.body["pay_order_no"].get<std::string>())["status"],
            "paid");
}

// The payer pays after the packet's TTL (2 s here) and the callback is lost: the scanner closes
// the packet unpaid, the server keeps polling the pay order (payment.late_poll_ms), takes the
// late payment and refunds it in full at the wallet. Reconciliation finds nothing orphaned.
TEST_F(MockE2eTest, LatePaymentWithALostCallbackIsFoundByPollingAndRefunded) {
  mock_->Switch({{"service", "payment"},
                 {"endpoint", "callback"},
                 {"error_rate", 1.0},
                 {"latency_ms", {{"fixed", 3000}}}});
  Reply sent = client_->SendPacket(1, "late", 700, 7);
  ASSERT_EQ(sent.status, 201);
  const std::string path = "/v1/packets/" + std::to_string(sent.body["packet_id"].get<int64_t>());
  ASSERT_TRUE(Eventually([&] { return client_->Get(path, 1).body["status"] == "closed"; }));
  ASSERT_TRUE(Eventually([&] { return client_->Get(path, 1).body["status"] == "refunded"; }));
  const std::string pay_order = sent.body["pay_order_no"];
  EXPECT_EQ(mock_->Get("/pay/orders/" + pay_order)["status"], "paid");
  json refunds = mock_->Get("/wallet/refunds?pay_order_no=" + pay_order)["refunds"];
  int64_t refunded = 0;
  for (const json& r : refunds) refunded += r["amount_cents"].get<int64_t>();
  EXPECT_EQ(refunded, 700) << refunds.dump();
  ASSERT_TRUE(Eventually([&] { return Settled(); }));
  EXPECT_TRUE(Recon()["clean"].get<bool>()) << Recon().dump();
}

TEST_F(MockE2eTest, TwoHundredGrabbersNeverExceedTheBudgetAndASubsidyFundsOnePacket) {
  mock_->Post("/admin/rounds", {{"round", "storm"},
                                {"budget_cents", 30000},
                                {"min_cents", 100},
                                {"max_cents", 400},
                                {"expires_in_s", 600}});
  std::atomic<int64_t> granted{0};
  std::atomic<int> wins{0};
  std::vector<std::thread> threads;
  std::mutex mu;
  std::vector<json> subsidies;
  for (int t = 0; t < 200; ++t) {
    threads.emplace_back([&, t] {
      Client c(server_->port());
      Reply r = c.Post("/v1/rain/storm/grab", "", 5000 + t);
      if (r.status == 201) {
        ++wins;
        granted += r.body["amount_cents"].get<int64_t>();
        std::lock_guard<std::mutex> lock(mu);
        subsidies.push_back(r.body);
      } else {
        EXPECT_EQ(r.status, 409) << r.raw;  // budget_exhausted
      }
    });
  }
  for (auto& th : threads) th.join();
  json round = mock_->Get("/admin/rounds/storm");
  EXPECT_LE(granted.load(), 30000);
  EXPECT_EQ(round["issued_cents"], granted.load());
  EXPECT_EQ(round["grabs"], wins.load());
  ASSERT_FALSE(subsidies.empty());
  // Everyone tries to use the first winner's token, concurrently: one packet, at most.
  const json s = subsidies.front();
  std::atomic<int> created{0};
  threads.clear();
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&, t] {
      Client c(server_->port());
      Reply r =
          c.Post("/v1/packets",
                 B2cBody("use-" + std::to_string(t), s["amount_cents"], 2, s["token"], "random"),
                 s["user_id"]);
      if (r.status == 201)
        ++created;
      else
        EXPECT_TRUE(r.status == 409 || r.status == 503) << r.raw;
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(created.load(), 1);
  Reply foreign =
      client_->Post("/v1/packets", B2cBody("foreign", s["amount_cents"], 1, s["token"], "random"),
                    s["user_id"].get<int64_t>() + 1);
  EXPECT_EQ(foreign.status, 403);
  ASSERT_TRUE(Eventually([&] { return Settled(); }));
  json report = Recon();
  EXPECT_TRUE(report["clean"].get<bool>()) << report.dump(2);
  EXPECT_EQ(report["b2c_issuance"]["issued_cents_service"], granted.load());
}

TEST_F(MockE2eTest, ExpiredB2cRemainderGoesBackToTheRoundBudget) {
  mock_->Post("/admin/rounds", {{"round", "back"},
                                {"budget_cents", 1000},
                                {"min_cents", 500},
                                {"max_cents", 500},
                                {"expires_in_s", 600}});
  Reply g = client_->Post("/v1/rain/back/grab", "", 77);
  ASSERT_EQ(g.status, 201);
  Reply sent =
      client_->Post("/v1/packets", B2cBody("b2c-exp", 500, 5, g.body["token"], "even"), 77);
  ASSERT_EQ(sent.status, 201) << sent.raw;
  ASSERT_EQ(client_->Claim(sent.body["packet_id"], 5).status, 201);
  const std::string path = "/v1/packets/" + std::to_string(sent.body["packet_id"].get<int64_t>());
  ASSERT_TRUE(Eventually([&] { return client_->Get(path, 1).body["status"] == "refunded"; }));
  json round = mock_->Get("/admin/rounds/back");
  EXPECT_EQ(round["returned_cents"], 400);  // 4 unclaimed shares of 100.
  EXPECT_EQ(round["remaining_cents"], 900);
  ASSERT_TRUE(Eventually([&] { return Settled(); }));
  EXPECT_TRUE(Recon()["clean"].get<bool>());
}

// subsidy.mode: sync writes the subsidy at grab time, async a little later in a batch, hybrid
// only when it is used; the merged list shows it in every mode.
class SubsidyModeTest : public MockE2eTest, public ::testing::WithParamInterface<std::string> {
 protected:
  std::string ExtraConfig() override { return "subsidy:\n  mode: " + GetParam() + "\n"; }
};

TEST_P(SubsidyModeTest, GrabIsRecordedAsTheModeSays) {
  mock_->Post("/admin/rounds", {{"round", "m"},
                                {"budget_cents", 10000},
                                {"min_cents", 100},
                                {"max_cents", 200},
                                {"expires_in_s", 600}});
  ASSERT_EQ(client_->Post("/v1/rain/m/grab", "", 8).status, 201);
  auto in_ledger = [&] {
    json list = client_->Get("/v1/subsidies", 8).body["subsidies"];
    return list.size() == 1 && list[0]["in_ledger"].get<bool>();
  };
  if (GetParam() == "sync") {
    EXPECT_TRUE(in_ledger());  // Before the grab was answered.
  }
  if (GetParam() == "async") {
    EXPECT_TRUE(Eventually(in_ledger));  // After the batch flush.
  }
  if (GetParam() == "hybrid") {
    EXPECT_FALSE(in_ledger());
    json s = client_->Get("/v1/subsidies", 8).body["subsidies"][0];
    EXPECT_EQ(s["state"], "issued");  // From the reward service's list.
    Reply sent =
        client_->Post("/v1/packets", B2cBody("use", s["amount_cents"], 1, s["token"], "random"), 8);
    EXPECT_EQ(sent.status, 201);
    EXPECT_TRUE(in_ledger());  // Written first when used.
  }
}

INSTANTIATE_TEST_SUITE_P(Modes, SubsidyModeTest, ::testing::Values("sync", "async", "hybrid"));

// `rp-server worker` as its own process does the transfers of a server run with --no-workers.
class SeparateWorkerTest : public MockE2eTest {
 protected:
  std::vector<std::string> ExtraArgs() override { return {"--no-workers"}; }
};

TEST_F(SeparateWorkerTest, WorkerProcessExecutesTheTransfers) {
  // No workers in this server: the test plays the payment callback itself.
  const int64_t packet = PaidPacket(*client_, "sep", 500, 5);
  for (int u = 1; u <= 5; ++u) ASSERT_EQ(client_->Claim(packet, u).status, 201);
  EXPECT_EQ(mock_->Get("/wallet/transfers")["transfers"].size(), 0u);  // Nobody executes them yet.
  std::vector<std::string> argv = {RP_SERVER_BIN, "worker",    "--config", dir_.File("config.yaml"),
                                   "--mocks",     mock_->url()};
  for (const std::string& a : LedgerArgs(dir_.File("ledger.db"))) argv.push_back(a);
  auto worker = ChildProcess::Spawn(argv,
                                    {std::string("RP_AUTH_SECRET=") + kAuthSecret,
                                     std::string("RP_PAYMENT_SECRET=") + kPaymentSecret,
                                     std::string("RP_REWARD_SECRET=") + kRewardSecret},
                                    dir_.File("worker.log"));
  ASSERT_TRUE(worker.ok());
  ASSERT_TRUE(worker->ReadLine(10000).ok());
  EXPECT_TRUE(Eventually([&] { return mock_->Get("/wallet/transfers")["transfers"].size() == 5; }));
  EXPECT_TRUE(
      Eventually([&] { return client_->Claim(packet, 3).body["status"] == "transferred"; }));
  worker->Signal(SIGTERM);
  EXPECT_EQ(*worker->Wait(10000), 0);
}

// Reconciliation names B2C discrepancies planted in a copy of a real ledger.
TEST_F(MockE2eTest, ReconNamesPlantedB2cDiscrepancies) {
  mock_->Post("/admin/rounds", {{"round", "p"},
                                {"budget_cents", 1000},
                                {"min_cents", 300},
                                {"max_cents", 300},
                                {"expires_in_s", 600}});
  Reply g = client_->Post("/v1/rain/p/grab", "", 9);
  Reply sent = client_->Post("/v1/packets", B2cBody("p", 300, 3, g.body["token"], "even"), 9);
  ASSERT_EQ(sent.status, 201);
  ASSERT_TRUE(Eventually([&] { return Recon()["clean"] == true; }));
  server_->child().Signal(SIGTERM);
  ASSERT_EQ(*server_->child().Wait(10000), 0);
  server_.reset();
  struct Case {
    const char* kind;
    ledger::Corruption plant;
  };
  for (const Case& c :
       std::vector<Case>{{"subsidy_amount_mismatch", ledger::Corruption::kSubsidyAmountMismatch},
                         {"unknown_subsidy", ledger::Corruption::kUnknownSubsidy},
                         {"b2c_amount_mismatch", ledger::Corruption::kB2cAmountMismatch}}) {
    const std::string copy = dir_.File(std::string(c.kind) + ".db");
    ASSERT_TRUE(CopyLedger(dir_.File("ledger.db"), copy).ok());
    Status planted = ledger::Corrupt(LedgerFor(copy), c.plant);
    ASSERT_TRUE(planted.ok()) << planted.ToString();
    std::unique_ptr<ledger::Engine> engine = OpenLedgerReadOnly(copy);
    ASSERT_TRUE(engine);
    auto r =
        recon::Run(*engine, {mock_->url(), mock_->url(), mock_->url(), 2000, 0}, SystemClock());
    ASSERT_TRUE(r.ok());
    bool named = false;
    for (const auto& v : r->report.violations) named = named || v.kind == c.kind;
    EXPECT_TRUE(named) << c.kind << " not in " << conservation::Format(r->report);
  }
  // Reopen a server so TearDown's graceful stop has one to stop.
  server_ =
      std::make_unique<ServerProcess>(dir_, std::vector<std::string>{"--mocks", mock_->url()});
}

}  // namespace
}  // namespace rp::testing
