// Journeys: the user flows the simulator replays, each a small state machine of dependent HTTP
// calls on the shared HttpPool (all on the load engine's io thread):
//   c2c: send -> payment (poll until the payment service's callback activated it, or sign the
//        callback ourselves when no payment service is in play) -> claims by distinct users (some
//        replayed) -> the detail page. Unclaimed remainders expire and are refunded by the server.
//   b2c: rain grab -> subsidy list -> send funded by the subsidy -> claims -> detail page.
//   hot: one claim on one of the shared hot packets created before the load.
// A journey's parameters are drawn from the seeded RNG when it starts, so one seed and one
// arrival order replay the same journeys. Every answer is recorded in RunStats and every
// acknowledged packet and claim in Observed.
#pragma once

#include <cstdint>
#include <functional>
#include <nlohmann/json.hpp>

#include <random>
#include <string>
#include <vector>
#include "common/api/api_client.h"

#include "simulator/engine/http_pool.h"
#include "simulator/engine/observed.h"
#include "simulator/scenario/scenario.h"
#include "simulator/stats/run_stats.h"

namespace rp::sim {

// Where the load goes and the secrets that let the simulator play users and the payment service.
struct Target {
  std::string host = "127.0.0.1";
  int port = 0;
  std::string auth_secret;
  std::string payment_secret;  // Needed only without a payment service (mocks_url empty).
  std::string mocks_url;       // rp-mock; empty when driving a server without mocks.
  // Part of every order number, so a second run against the same server (--target) sends new
  // packets instead of replaying the first run's (which idempotency would answer with those).
  std::string run_tag = "0";
};

class JourneyRunner {
 public:
  // pool, stats and observed must outlive the runner. start_ns: the load's start (MonotonicNs).
  JourneyRunner(boost::asio::io_context& io, const Scenario& scenario, const Target& target,
                HttpPool* pool, RunStats* stats, Observed* observed, int64_t start_ns);

  // Starts one journey whose first request was due at intended_ns; done() runs when it ends.
  void Start(int64_t intended_ns, std::function<void()> done);
  // Hot packets prepared before the load (their ids); the hot flow claims on them.
  void SetHotPackets(std::vector<int64_t> ids) { hot_packets_ = std::move(ids); }
  int active() const { return active_; }

 private:
  using Next = std::function<void(int status, const nlohmann::json& body)>;
  struct Journey;

  // Sends req, recording its latency from intended_ns under op.
  void Call(const char* op, const api::Request& req, int64_t intended_ns, Next next);
  void C2c(int64_t intended_ns, std::function<void()> done);
  void B2c(int64_t intended_ns, std::function<void()> done);
  void Hot(int64_t intended_ns, std::function<void()> done);
  void Send(std::shared_ptr<Journey> j, const api::SendBody& body, int64_t intended_ns);
  void AwaitPayment(std::shared_ptr<Journey> j, std::string pay_order_no, int polls_left);
  void Claims(std::shared_ptr<Journey> j);
  void Claim(std::shared_ptr<Journey> j, int64_t user, bool replay_after);
  void Detail(std::shared_ptr<Journey> j);
  // A money-moving request's completion, for the history (Observed::Record).
  void Event(const char* op, int64_t invoked_ns, int status, int64_t packet, int64_t user,
             int64_t claim_id, int64_t amount_cents);
  void RecordClaim(int64_t invoked_ns, int status, int64_t packet, int64_t user,
                   const nlohmann::json& body);
  int64_t Draw(const IntRange& r);
  int64_t RandomUser();

  boost::asio::io_context& io_;
  const Scenario& scenario_;
  const Target& target_;
  const api::Credentials creds_;
  HttpPool* pool_;
  RunStats* stats_;
  Observed* observed_;
  int64_t start_ns_;
  std::mt19937_64 rng_;
  std::vector<int64_t> hot_packets_;
  int64_t journeys_ = 0;
  int64_t hot_claims_ = 0;
  int active_ = 0;
};

}  // namespace rp::sim
