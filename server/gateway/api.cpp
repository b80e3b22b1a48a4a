#include "server/gateway/api.h"

#include <charconv>
#include <optional>

#include "common/check.h"
#include "server/gateway/auth.h"
#include "server/gateway/http_errors.h"
#include "server/gateway/json_mapping.h"
#include "server/query/packet_query.h"

namespace rp::gateway {
namespace {

using nlohmann::json;

// Parses a positive decimal id of at most 18 digits (fits int64 with room).
bool ParseId(std::string_view s, int64_t* out) {
  if (s.empty() || s.size() > 18) return false;
  auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), *out);
  return ec == std::errc() && ptr == s.data() + s.size() && *out > 0;
}

// Query parameter value, raw (ids and cursors need no decoding).
std::optional<std::string> QueryParam(const std::string& query, const std::string& name) {
  size_t pos = 0;
  while (pos <= query.size()) {
    size_t amp = query.find('&', pos);
    if (amp == std::string::npos) amp = query.size();
    std::string_view kv(query.data() + pos, amp - pos);
    size_t eq = kv.find('=');
    if (kv.substr(0, eq) == name) {
      return std::string(eq == std::string_view::npos ? "" : kv.substr(eq + 1));
    }
    pos = amp + 1;
  }
  return std::nullopt;
}

HttpResponse MethodNotAllowed(std::string_view allow) {
  HttpResponse r =
      ErrorResponse({Error::kMethodNotAllowed, "use " + std::string(allow) + " on this path"});
  r.status = 405;
  r.headers.push_back({"Allow", std::string(allow)});
  return r;
}

// Answers a Result with a JSON body made by render, or with the error.
template <typename T, typename Render>
auto Reply(Respond respond, int status, Render render) {
  return [respond = std::move(respond), status, render](Result<T> r) {
    if (!r.ok()) return respond(ErrorResponse(r.status()));
    respond(JsonResponse(status, render(*r)));
  };
}

}  // namespace

Api::Api(ApiDeps deps) : d_(deps), http_metrics_(*deps.hub) {
  RP_CHECK(d_.options && d_.packets && d_.claims && d_.ledger && d_.recon && d_.hub && d_.clock);
}

void Api::Handle(HttpRequest&& req, Respond respond) {
  const int64_t start_ns = MonotonicNs();
  const RouteMatch m = MatchRoute(req.method, req.path);
  // Every response passes through `done`, so metrics see each request exactly once.
  Respond done = [this, m, start_ns, respond](HttpResponse r) {
    http_metrics_.Observe(m, r.status, static_cast<double>(MonotonicNs() - start_ns) / 1e9);
    respond(std::move(r));
  };
  if (m.route == Route::kNone) {
    return done(ErrorResponse({Error::kRouteNotFound, "no route " + req.path}));
  }
  if (!m.method_allowed) return done(MethodNotAllowed(m.allow));
  if (m.route == Route::kHealthz) return done(JsonResponse(200, {{"status", "ok"}}));
  if (m.route == Route::kMetrics) {
    HttpResponse r;
    r.content_type = "text/plain; version=0.0.4";
    r.body = d_.hub->Render();
    return done(std::move(r));
  }
  if (m.route == Route::kPaymentCallback) return PaymentCallback(req, std::move(done));
  Result<auth::TokenCheck> token =
      Authenticate(req.authorization, d_.options->auth_secret, d_.clock->NowMs() / 1000);
  if (!token.ok()) return done(ErrorResponse(token.status()));
  if (m.route == Route::kAdminRecon) {
    if (!token->admin) return done(ErrorResponse({Error::kForbidden, "needs an admin token"}));
    return AdminRecon(req, std::move(done));
  }
  if (!token->user_id) {
    return done(
        ErrorResponse({Error::kForbidden, "an admin token carries no user; use a user token"}));
  }
  Authenticated(req, m, *token->user_id, std::move(done));
}

void Api::Authenticated(const HttpRequest& req, const RouteMatch& m, int64_t user,
                        Respond respond) {
  if (m.route == Route::kGrab) return Grab(std::string(m.id), user, std::move(respond));
  if (m.route == Route::kSubsidies) return ListSubsidies(user, std::move(respond));
  if (m.route == Route::kSendPacket) return SendPacket(req, user, std::move(respond));
  int64_t packet_id = 0;
  if (!ParseId(m.id, &packet_id)) {
    return respond(
        ErrorResponse({Error::kInvalidPacketId, "a packet id is a positive decimal integer"}));
  }
  if (m.route == Route::kGetPacket) return GetPacket(packet_id, std::move(respond));
  if (m.route == Route::kClaim) return Claim(req, packet_id, user, std::move(respond));
  return ListClaims(req, packet_id, std::move(respond));
}

void Api::SendPacket(const HttpRequest& req, int64_t user_id, Respond respond) {
  Result<core::SendRequest> body = ParseSendBody(req.body);
  if (!body.ok()) return respond(ErrorResponse(body.status()));
  d_.packets->Send(std::move(body.value()), user_id, [respond](Result<core::SendOutcome> r) {
    if (!r.ok()) return respond(ErrorResponse(r.status()));
    respond(JsonResponse(r->replay ? 200 : 201, PacketJson(r->packet)));
  });
}

void Api::PaymentCallback(const HttpRequest& req, Respond respond) {
  Status signed_ok = VerifySignature(d_.options->payment_secret, req.body, req.signature);
  if (!signed_ok.ok()) return respond(ErrorResponse(signed_ok));
  Result<core::PaymentCallback> cb = ParseCallbackBody(req.body);
  if (!cb.ok()) return respond(ErrorResponse(cb.status()));
  d_.packets->Paid(std::move(cb.value()),
                   Reply<core::PaymentOutcome>(std::move(respond), 200, PaymentJson));
}

void Api::Claim(const HttpRequest& req, int64_t packet_id, int64_t user_id, Respond respond) {
  Status s = ParseClaimBody(req.body);
  if (!s.ok()) return respond(ErrorResponse(s));
  d_.claims->Claim(packet_id, user_id, [respond](Result<core::ClaimOutcome> r) {
    if (!r.ok()) return respond(ErrorResponse(r.status()));
    respond(JsonResponse(r->repeat ? 200 : 201, ClaimJson(*r)));
  });
}

void Api::GetPacket(int64_t packet_id, Respond respond) {
  Result<ledger::PacketRecord> p = query::GetPacket(*d_.ledger, packet_id);
  if (!p.ok()) return respond(ErrorResponse(p.status()));
  respond(JsonResponse(200, PacketDetailJson(*p)));
}

void Api::ListClaims(const HttpRequest& req, int64_t packet_id, Respond respond) {
  int64_t limit = 20;
  int64_t cursor = 0;
  std::optional<std::string> limit_s = QueryParam(req.query, "limit");
  std::optional<std::string> cursor_s = QueryParam(req.query, "cursor");
  if (limit_s && (!ParseId(*limit_s, &limit) || limit > 100)) {
    return respond(ErrorResponse({Error::kInvalidLimit, "limit must be 1..100"}));
  }
  if (cursor_s && !cursor_s->empty() && !ParseId(*cursor_s, &cursor)) {
    return respond(ErrorResponse({Error::kInvalidCursor, "cursor is not one we issued"}));
  }
  Result<query::ClaimsPage> page =
      query::ListClaims(*d_.ledger, packet_id, cursor, static_cast<int>(limit));
  if (!page.ok()) return respond(ErrorResponse(page.status()));
  respond(JsonResponse(200, ClaimsPageJson(packet_id, *page)));
}

// GET /admin/recon[?since=<unix seconds>]: a fresh reconciliation, run off the I/O threads.
void Api::AdminRecon(const HttpRequest& req, Respond respond) {
  int64_t since_s = 0;
  if (std::optional<std::string> since = QueryParam(req.query, "since")) {
    if (!ParseId(*since, &since_s)) {
      return respond(ErrorResponse({Error::kInvalidSince, "since is unix seconds"}));
    }
  }
  d_.recon->Run(since_s * 1000,
                Reply<recon::ReconResult>(std::move(respond), 200, [](const recon::ReconResult& r) {
                  return recon::ToJson(r);
                }));
}

void Api::Grab(std::string round, int64_t user_id, Respond respond) {
  if (d_.b2c == nullptr) {
    return respond(ErrorResponse(
        {Error::kRewardNotConfigured, "this server has no reward service (reward.url)"}));
  }
  if (!core::IsToken(round, 64)) {
    return respond(ErrorResponse({Error::kInvalidRound, "a round id is [A-Za-z0-9_-]{1,64}"}));
  }
  d_.b2c->Grab(std::move(round), user_id, [respond](Result<core::GrabOutcome> r) {
    if (!r.ok()) return respond(ErrorResponse(r.status()));
    respond(JsonResponse(r->created ? 201 : 200, r->reward_reply));
  });
}

// The reward service's tokens merged with the ledger's records; when the reward service is
// unreachable the list degrades to the ledger's records ("degraded": true).
void Api::ListSubsidies(int64_t user_id, Respond respond) {
  if (d_.b2c == nullptr) {
    return respond(ErrorResponse(
        {Error::kRewardNotConfigured, "this server has no reward service (reward.url)"}));
  }
  d_.b2c->ListSubsidies(user_id,
                        Reply<core::SubsidyList>(std::move(respond), 200, SubsidyListJson));
}

}  // namespace rp::gateway
