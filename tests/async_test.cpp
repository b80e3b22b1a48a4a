// The async service against a scripted in-test wallet: transfers and refunds are executed
// exactly once however often the wallet fails, times out or is down, and the ledger's state
// machines finish. (tests/mock_e2e_test.cpp repeats the key cases against the real rp-mock.)
#include <gtest/gtest.h>
#include <httplib.h>

#include <atomic>
#include <map>
#include <mutex>
#include <random>
#include <thread>

#include "tests/support/harness.h"

namespace rp::testing {
namespace {

using nlohmann::json;

// A wallet with idempotent transfers and refunds, and faults the test switches on.
class FakeWallet {
 public:
  FakeWallet() {
    server_.set_tcp_nodelay(true);
    server_.set_keep_alive_max_count(100000);
    server_.new_task_queue = [] { return new httplib::ThreadPool(16); };
    server_.Post("/wallet/transfers", [this](const auto& req, auto& res) { Apply("transfer_no", req, res); });
    server_.Post("/wallet/refunds", [this](const auto& req, auto& res) { Apply("refund_no", req, res); });
    server_.Post("/pay/orders", [](const auto& req, auto& res) {
      json b = json::parse(req.body);
      res.status = 200;
      res.set_content(json{{"pay_order_no", b["pay_order_no"]}, {"status", "pending"},
                           {"amount_cents", b["amount_cents"]}}.dump(), "application/json");
    });
    server_.Get(R"(/pay/orders/(.+))", [this](const auto& req, auto& res) {
      std::lock_guard<std::mutex> lock(mu_);
      auto it = paid_.find(req.matches[1]);
      json b = {{"pay_order_no", std::string(req.matches[1])},
                {"status", it == paid_.end() ? "pending" : "paid"},
                {"amount_cents", it == paid_.end() ? 0 : it->second}};
      res.set_content(b.dump(), "application/json");
    });
    port_ = server_.bind_to_any_port("127.0.0.1");
    // Bound and listening already: connections queue until the accept loop runs.
    thread_ = std::thread([this] { server_.listen_after_bind(); });
  }
  ~FakeWallet() {
    server_.stop();
    thread_.join();
  }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }
  void SetFailRate(double rate) { fail_rate_ = rate; }
  void SetDown(bool down) { down_ = down; }
  void MarkPaid(const std::string& pay_order_no, int64_t amount) {
    std::lock_guard<std::mutex> lock(mu_);
    paid_[pay_order_no] = amount;
  }
  // Effects applied, by order number (a correct client applies each exactly once).
  std::map<std::string, int64_t> Applied() {
    std::lock_guard<std::mutex> lock(mu_);
    return applied_;
  }
  int64_t Calls() const { return calls_.load(); }

 private:
  void Apply(const char* key, const httplib::Request& req, httplib::Response& res) {
    ++calls_;
    if (down_) {
      res.status = 503;
      return;
    }
    json b = json::parse(req.body);
    std::lock_guard<std::mutex> lock(mu_);
    const std::string no = b[key];
    // Fail before or after applying: after is the case only idempotency saves.
    const double roll = std::uniform_real_distribution<double>(0, 1)(rng_);
    const bool fail = roll < fail_rate_;
    const bool apply_then_fail = fail && roll < fail_rate_ / 2;
    if (fail && !apply_then_fail) {
      res.status = 500;
      return;
    }
    auto [it, inserted] = applied_.emplace(no, b["amount_cents"].get<int64_t>());
    if (!inserted && it->second != b["amount_cents"].get<int64_t>()) {
      res.status = 409;
      return;
    }
    if (apply_then_fail) {
      res.status = 502;  // Applied, but the caller hears an error.
      return;
    }
    res.status = inserted ? 201 : 200;
    b["status"] = "done";
    res.set_content(b.dump(), "application/json");
  }

  httplib::Server server_;
  std::thread thread_;
  int port_ = 0;
  std::mutex mu_;
  std::mt19937_64 rng_{7};
  std::atomic<double> fail_rate_{0};
  std::atomic<bool> down_{false};
  std::atomic<int64_t> calls_{0};
  std::map<std::string, int64_t> applied_;
  std::map<std::string, int64_t> paid_;
};

class AsyncTest : public ::testing::Test {
 protected:
  void Start(int64_t ttl_s = 86400) {
    base::ServerConfig c = TestConfig(dir_);
    c.scanner_interval_ms = 20;
    c.wallet_url = wallet_.url();
    c.payment_url = wallet_.url();
    c.packet_ttl_s = ttl_s;
    c.recon_interval_ms = 0;
    c.async_idle_poll_ms = 5;
    c.async_retry_base_ms = 1;
    c.async_retry_max_ms = 20;
    c.async_failed_after_attempts = 3;
    c.payment_poll_ms = 10;
    c.async_call_deadline_ms = 1000;
    server_ = std::make_unique<InProcessServer>(c);
    ASSERT_TRUE(server_->app);
    client_ = std::make_unique<Client>(server_->port);
  }
  void TearDown() override {
    if (server_ && server_->app) server_->app->Stop();
    EXPECT_TRUE(LedgerConserves(dir_.File("ledger.db")));
  }
  // Polls the packet's public state until pred holds; bounded.
  bool WaitFor(const std::function<bool()>& pred) {
    for (int i = 0; i < 2000; ++i) {
      if (pred()) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(5));  // Waiting on background workers.
    }
    return false;
  }
  int64_t ActivePacket(const std::string& order, int64_t total, int64_t count) {
    Reply sent = client_->SendPacket(1, order, total, count);
    EXPECT_EQ(sent.status, 201);
    EXPECT_EQ(client_->Pay(sent.body["pay_order_no"], "paid", total).status, 200);
    return sent.body["packet_id"];
  }
  std::string ClaimStatus(int64_t packet, int64_t user) {
    return client_->Claim(packet, user).body.value("status", "");
  }

  FakeWallet wallet_;
  TempDir dir_;
  std::unique_ptr<InProcessServer> server_;
  std::unique_ptr<Client> client_;
};

TEST_F(AsyncTest, FlakyWalletStillTransfersEveryClaimExactlyOnce) {
  wallet_.SetFailRate(0.3);
  Start();
  const int64_t packet = ActivePacket("flaky", 10000, 100);
  std::map<std::string, int64_t> expected;
  for (int u = 1; u <= 100; ++u) {
    Reply r = client_->Claim(packet, 100 + u);
    ASSERT_EQ(r.status, 201);
    expected["TR" + std::to_string(r.body["claim_id"].get<int64_t>())] = r.body["amount_cents"];
  }
  ASSERT_TRUE(WaitFor([&] { return wallet_.Applied().size() >= expected.size(); }));
  ASSERT_TRUE(WaitFor([&] {
    for (int u = 1; u <= 100; ++u) {
      if (ClaimStatus(packet, 100 + u) != "transferred") return false;
    }
    return true;
  }));
  EXPECT_EQ(wallet_.Applied(), expected);  // Each transfer once, with its amount.
  EXPECT_GT(wallet_.Calls(), 100);          // Failures really happened and were retried.
}

TEST_F(AsyncTest, TransfersWaitWhileTheWalletIsDownAndFinishAfter) {
  wallet_.SetDown(true);
  Start();
  const int64_t packet = ActivePacket("down", 1000, 10);
  for (int u = 1; u <= 10; ++u) ASSERT_EQ(client_->Claim(packet, u).status, 201);
  // Past failed_after_attempts the claims are marked transfer_failed, never dropped.
  ASSERT_TRUE(WaitFor([&] { return ClaimStatus(packet, 1) == "transfer_failed"; }));
  EXPECT_TRUE(wallet_.Applied().empty());
  wallet_.SetDown(false);
  ASSERT_TRUE(WaitFor([&] {
    for (int u = 1; u <= 10; ++u) {
      if (ClaimStatus(packet, u) != "transferred") return false;
    }
    return true;
  }));
  EXPECT_EQ(wallet_.Applied().size(), 10u);
}

TEST_F(AsyncTest, ExpiredRemainderIsRefundedOnceAndThePacketEndsRefunded) {
  wallet_.SetFailRate(0.5);
  Start(/*ttl_s=*/1);
  const int64_t packet = ActivePacket("refund", 1000, 10);
  Reply won = client_->Claim(packet, 5);
  ASSERT_EQ(won.status, 201);
  // The TTL is one second of wall time; the scanner (every 20 ms here) expires the packet and
  // the workers pay the refund through the flaky wallet.
  ASSERT_TRUE(WaitFor([&] {
    return client_->Get("/v1/packets/" + std::to_string(packet), 1).body["status"] == "refunded";
  }));
  EXPECT_EQ(client_->Claim(packet, 6).status, 410);
  auto applied = wallet_.Applied();
  ASSERT_EQ(applied.count("RF" + std::to_string(packet)), 1u);
  EXPECT_EQ(applied["RF" + std::to_string(packet)], 1000 - won.body["amount_cents"].get<int64_t>());
}

TEST_F(AsyncTest, PaymentWithoutCallbackIsActivatedByPolling) {
  Start();
  Reply sent = client_->SendPacket(1, "lost-callback", 500, 5);
  ASSERT_EQ(sent.status, 201);
  // The payment service has the order paid, but no callback ever arrives.
  wallet_.MarkPaid(sent.body["pay_order_no"], 500);
  const std::string path = "/v1/packets/" + sent.body["packet_id"].dump();
  ASSERT_TRUE(WaitFor([&] { return client_->Get(path, 1).body["status"] == "active"; }));
  EXPECT_EQ(client_->Claim(sent.body["packet_id"], 9).status, 201);
}

}  // namespace
}  // namespace rp::testing
