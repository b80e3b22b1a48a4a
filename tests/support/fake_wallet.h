// FakeWallet: a scripted wallet + payment service for tests, in the test process (cpp-httplib).
// Transfers and refunds are idempotent on their numbers like the real one (rp-mock); faults are
// switched by the test: a failure rate (half of the failures happen after the effect was
// applied: the case only idempotency saves), an outage, a hold that parks refund calls until
// released (to kill a server mid-call). Thread-safe.
#pragma once

#include <httplib.h>

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <random>
#include <string>
#include <thread>

namespace rp::testing {

using nlohmann::json;

// A wallet with idempotent transfers and refunds, and faults the test switches on.
class FakeWallet {
 public:
  FakeWallet() {
    server_.set_tcp_nodelay(true);
    server_.set_keep_alive_max_count(100000);
    server_.new_task_queue = [] { return new httplib::ThreadPool(16); };
    server_.Post("/wallet/transfers",
                 [this](const auto& req, auto& res) { Apply("transfer_no", req, res); });
    server_.Post("/wallet/refunds",
                 [this](const auto& req, auto& res) { Apply("refund_no", req, res); });
    server_.Post("/pay/orders", [](const auto& req, auto& res) {
      json b = json::parse(req.body);
      res.status = 200;
      res.set_content(json{{"pay_order_no", b["pay_order_no"]},
                           {"status", "pending"},
                           {"amount_cents", b["amount_cents"]}}
                          .dump(),
                      "application/json");
    });
    server_.Get(R"(/pay/orders/(.+))", [this](const auto& req, auto& res) {
      std::lock_guard<std::mutex> lock(mu_);
      auto it = paid_.find(req.matches[1]);
      json b = {{"pay_order_no", std::string(req.matches[1])},
                {"status", it == paid_.end() ? "pending" : "paid"},
                {"amount_cents", it == paid_.end() ? 0 : it->second}};
      res.set_content(b.dump(), "application/json");
    });
    // Exports for reconciliation, in rp-mock's shapes.
    server_.Get("/pay/export", [this](const auto&, auto& res) {
      std::lock_guard<std::mutex> lock(mu_);
      json orders = json::array();
      for (auto& [no, amount] : paid_) {
        orders.push_back({{"pay_order_no", no}, {"status", "paid"}, {"amount_cents", amount}});
      }
      res.set_content(json{{"orders", orders}}.dump(), "application/json");
    });
    server_.Get("/wallet/export", [this](const auto&, auto& res) {
      std::lock_guard<std::mutex> lock(mu_);
      json transfers = json::array(), refunds = json::array();
      for (auto& [no, body] : records_) {
        (body.contains("transfer_no") ? transfers : refunds).push_back(body);
      }
      res.set_content(json{{"transfers", transfers}, {"refunds", refunds}}.dump(),
                      "application/json");
    });
    port_ = server_.bind_to_any_port("127.0.0.1");
    // Bound and listening already: connections queue until the accept loop runs.
    thread_ = std::thread([this] { server_.listen_after_bind(); });
  }
  ~FakeWallet() {
    ReleaseRefunds();  // A parked handler would keep stop() waiting.
    server_.stop();
    thread_.join();
  }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }
  void SetFailRate(double rate) { fail_rate_ = rate; }
  void SetDown(bool down) { down_ = down; }
  // Refund calls block (before applying) until ReleaseRefunds().
  void HoldRefunds() {
    std::lock_guard<std::mutex> lock(mu_);
    hold_refunds_ = true;
  }
  void ReleaseRefunds() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      hold_refunds_ = false;
    }
    cv_.notify_all();
  }
  // Waits (bounded) until a refund call has arrived while held.
  bool WaitForRefundCall(int64_t timeout_ms) {
    std::unique_lock<std::mutex> lock(mu_);
    return cv_.wait_for(lock, std::chrono::milliseconds(timeout_ms),
                        [this] { return refunds_arrived_ > 0; });
  }
  // Plants a record the ledger does not know (reconciliation tests).
  void PlantTransfer(const std::string& transfer_no, int64_t user_id, int64_t amount) {
    std::lock_guard<std::mutex> lock(mu_);
    applied_[transfer_no] = amount;
    records_[transfer_no] = {
        {"transfer_no", transfer_no}, {"user_id", user_id}, {"amount_cents", amount}};
  }
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
    std::unique_lock<std::mutex> lock(mu_);
    if (std::string(key) == "refund_no" && hold_refunds_) {
      ++refunds_arrived_;
      cv_.notify_all();
      cv_.wait(lock, [this] { return !hold_refunds_; });
    }
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
    if (inserted) records_[no] = b;
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
  std::map<std::string, json> records_;  // Request bodies of applied effects, for the export.
  // Refund hold: calls park until released; the test waits for the first to arrive.
  bool hold_refunds_ = false;
  int refunds_arrived_ = 0;
  std::condition_variable cv_;
};

}  // namespace rp::testing
