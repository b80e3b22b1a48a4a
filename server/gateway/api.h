// Api: the HTTP API of rp-server (docs/api.md) — routing, authentication, request/response
// mapping and error mapping, nothing else: every business rule is in core/ (sends, claims,
// B2C), query/ (reads) and recon/.
//
// Contract: Handle() answers every request exactly once, with a JSON body; errors are
// {"error":{"code","message"}} with a 4xx status (5xx only for storage failures or overload).
// Thread-safe: called concurrently from the HTTP I/O threads; never blocks one (every ledger
// read runs on ApiDeps::read_pool, every write on the ledger's own threads).
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>

#include "common/blocking_pool.h"
#include "common/clock.h"
#include "common/metrics/metrics.h"
#include "server/base/degrade.h"
#include "server/core/b2c.h"
#include "server/core/claim_service.h"
#include "server/core/packet_service.h"
#include "server/gateway/http_metrics.h"
#include "server/gateway/http_server.h"
#include "server/gateway/options.h"
#include "server/gateway/routes.h"
#include "server/ledger/engine.h"
#include "server/limits/limiter.h"
#include "server/recon/recon.h"

namespace rp::gateway {

// Not owned; all must outlive the Api.
struct ApiDeps {
  const GatewayOptions* options = nullptr;
  core::PacketService* packets = nullptr;
  core::ClaimService* claims = nullptr;
  core::B2cService* b2c = nullptr;   // Null: no reward service configured.
  ledger::Engine* ledger = nullptr;  // The read side.
  recon::ReconRunner* recon = nullptr;
  metrics::Hub* hub = nullptr;
  const Clock* clock = nullptr;
  // Stability (docs/stability.md); each may be null: no limits, no degradation switches.
  limits::Limiter* limiter = nullptr;
  BlockingPool* limits_pool = nullptr;  // Runs the Redis calls of global rules.
  std::function<void(int64_t delay_ms, std::function<void()>)> run_after;  // Queueing rules.
  base::Degrader* degrader = nullptr;
  // Runs the routes that read the ledger (a packet, its claims) off the I/O threads. Null: on
  // the calling thread (tests of the API alone).
  BlockingPool* read_pool = nullptr;
};

class Api {
 public:
  explicit Api(ApiDeps deps);
  void Handle(HttpRequest&& req, Respond respond);

 private:
  // After authentication: the rate limits, then Authenticated().
  HttpResponse Health() const;
  HttpResponse Metrics() const;
  void Limited(HttpRequest&& req, const RouteMatch& m, int64_t user, Respond respond);
  // Acts on a limiter's decision for a request kept alive in held.
  void Decided(std::shared_ptr<HttpRequest> held, int64_t user, limits::Decision d,
               Respond respond);
  void Admitted(const HttpRequest& req, const RouteMatch& m, int64_t user, Respond respond);
  void Authenticated(const HttpRequest& req, const RouteMatch& m, int64_t user, Respond respond);
  void Admin(const HttpRequest& req, const RouteMatch& m, Respond respond);
  void SendPacket(const HttpRequest& req, int64_t user_id, Respond respond);
  void PaymentCallback(const HttpRequest& req, Respond respond);
  void Claim(const HttpRequest& req, int64_t packet_id, int64_t user_id, Respond respond);
  // Runs read (a blocking ledger read) on the read pool and answers with what it returns; 503
  // overloaded at once when the pool is full.
  void OffIoThread(Respond respond, std::function<HttpResponse()> read);
  void GetPacket(int64_t packet_id, Respond respond);
  void ListClaims(const HttpRequest& req, int64_t packet_id, Respond respond);
  void AdminRecon(const HttpRequest& req, Respond respond);
  void Grab(std::string round, int64_t user_id, Respond respond);
  void ListSubsidies(int64_t user_id, Respond respond);

  ApiDeps d_;
  HttpMetrics http_metrics_;
  std::atomic<int64_t> waiting_{0};  // Requests a queueing rule holds; bounded by kWaitingMax.
  static constexpr int64_t kWaitingMax = 10000;
};

}  // namespace rp::gateway
