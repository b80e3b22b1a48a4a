// Api: the HTTP API of rp-server (docs/api.md): routing, authentication, request parsing and
// response rendering. Business rules live in core/ and query/; this layer only translates.
//
// Contract: Handle() answers every request exactly once, with a JSON body; errors are
// {"error":{"code","message"}} with a 4xx status (5xx only for storage failures or overload).
// Thread-safe: called concurrently from the HTTP I/O threads.
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "common/clock.h"
#include "server/async/async_service.h"
#include "server/async/stream_queue.h"
#include "server/base/blocking_pool.h"
#include "server/base/config.h"
#include "server/base/ledger_writer.h"
#include "server/core/audience.h"
#include "server/core/b2c.h"
#include "server/core/claim_scheme.h"
#include "server/core/send.h"
#include "server/gateway/http_server.h"
#include "server/gateway/metrics.h"
#include "server/query/read_pool.h"
#include "server/recon/recon.h"

namespace rp::gateway {

struct ApiDeps {
  const base::ServerConfig* config = nullptr;
  base::LedgerWriter* writer = nullptr;
  core::ClaimScheme* scheme = nullptr;
  query::ReadPool* reads = nullptr;
  const Clock* clock = nullptr;
  ServerMetrics* metrics = nullptr;
  // Set when a payment service is configured: sends then queue the pay order (checkout).
  std::optional<std::string> payment_notify_url;
  const async::AsyncService* async = nullptr;            // Null when no workers run here.
  const recon::PeriodicRecon* periodic_recon = nullptr;  // Null when off.
  base::BlockingPool* blocking = nullptr;                // For calls to downstream services.
  core::AudienceChecker* audience = nullptr;             // Null: receiving range not enforced.
  core::B2cService* b2c = nullptr;                       // Null: no reward service configured.
  const async::StreamQueue* stream_queue = nullptr;      // Null: tasks on the outbox.
};

class Api {
 public:
  explicit Api(ApiDeps deps) : d_(deps) {}
  void Handle(HttpRequest&& req, Respond respond);

 private:
  void SendPacket(const HttpRequest& req, int64_t user_id, Respond respond);
  void PaymentCallback(const HttpRequest& req, Respond respond);
  void Claim(const HttpRequest& req, int64_t packet_id, int64_t user_id, Respond respond);
  void GetPacket(int64_t packet_id, Respond respond);
  void ListClaims(const HttpRequest& req, int64_t packet_id, Respond respond);
  void AdminRecon(const HttpRequest& req, Respond respond);
  // Runs blocking work on the pool. An exception escaping it is a bug: it is logged and
  // answered with 500 instead of taking the process down or leaving the client hanging.
  Status Offload(const Respond& respond, std::function<void()> work);
  // B2C (b2c_api.cpp).
  void SendB2c(const core::SendRequest& req, int64_t user_id, Respond respond);
  void Grab(const std::string& round, int64_t user_id, Respond respond);
  void ListSubsidies(int64_t user_id, Respond respond);

  ApiDeps d_;
};

// A JSON response (invalid UTF-8 replaced, never thrown on).
HttpResponse JsonResponse(int status, const nlohmann::json& body);
// The send/replay view of a packet.
nlohmann::json PacketJson(const core::PacketRow& p);
// JSON error body and HTTP status for a non-OK Status.
HttpResponse ErrorResponse(const Status& s);
int HttpStatusOf(Code code);
// RFC 3339 UTC with milliseconds, e.g. "2026-11-24T20:15:03.123Z".
std::string FormatTimeMs(int64_t ms);

}  // namespace rp::gateway
