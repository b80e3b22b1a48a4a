// MockServer: one rp-mock process — payment, wallet, reward and social services on one
// cpp-httplib server, their switches, the admin API (/admin/switches, /admin/rounds) and
// /metrics (calls and injected faults per service and endpoint, Prometheus text).
// Configured per the shared facts (TCP_NODELAY, a large keep-alive count, a thread pool sized
// for the expected connections). /admin/* needs no credentials: a test double on loopback.
#pragma once

#include <httplib.h>

#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "common/metrics/metrics.h"
#include "mocks/config.h"
#include "mocks/payment.h"
#include "mocks/reward.h"
#include "mocks/switches.h"
#include "mocks/wallet.h"

namespace rp::mock {

class MockServer {
 public:
  static Result<std::unique_ptr<MockServer>> Start(const MockConfig& config);
  ~MockServer();
  int port() const { return port_; }
  void Stop();

 private:
  MockServer() = default;
  // Wraps each endpoint handler of `service` with its switch.
  Guard GuardFor(const std::string& service);
  void RegisterAdmin();
  void RegisterSocial();

  MockConfig config_;
  // /metrics: rp_mock_calls_total and rp_mock_faults_injected_total per service and endpoint,
  // so one Prometheus sees both sides of a run (what the server called, what was injected).
  metrics::Hub metrics_;
  prometheus::Family<prometheus::Counter>* calls_ = nullptr;
  prometheus::Family<prometheus::Counter>* faults_ = nullptr;
  std::unique_ptr<SwitchBoard> switches_;
  std::unique_ptr<PaymentService> payment_;
  std::unique_ptr<RewardService> reward_;
  std::unique_ptr<WalletService> wallet_;
  httplib::Server http_;
  std::thread thread_;
  int port_ = 0;
};

}  // namespace rp::mock
