#include "server/gateway/api.h"

#include <spdlog/spdlog.h>

#include <charconv>
#include <optional>

#include "common/check.h"
#include "server/gateway/admin_json.h"
#include "server/gateway/auth.h"
#include "server/gateway/http_errors.h"
#include "server/gateway/json_mapping.h"
#include "server/query/packet_query.h"

namespace rp::gateway {
namespace {

using nlohmann::json;

// Parses a positive decimal id of at most 18 digits (fits int64 with room), written one way
// only: no leading zero, so "01" is not a second name for packet 1 (HAProxy hashes the text).
bool ParseId(std::string_view s, int64_t* out) {
  if (s.empty() || s.size() > 18 || s.front() == '0') return false;
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

constexpr std::string_view kGrabTryAgain =
    "The red-packet rain is very busy right now. Please try again in a moment.";

// The packet a request is about, for per-packet rules; 0 when none or not a valid id.
int64_t PacketIdOf(const RouteMatch& m) {
  int64_t id = 0;
  const bool packet_route =
      m.route == Route::kClaim || m.route == Route::kGetPacket || m.route == Route::kListClaims;
  return packet_route && ParseId(m.id, &id) ? id : 0;
}

// 429 with Retry-After (RFC 9110: whole seconds) and a message fit to show the user.
HttpResponse RateLimited(const limits::Decision& d) {
  HttpResponse r = JsonResponse(429, {{"error",
                                       {{"code", ErrorName(Error::kRateLimited)},
                                        {"message", d.message},
                                        {"rule", d.rule},
                                        {"retry_after_s", d.retry_after_s}}}});
  r.headers.push_back({"Retry-After", std::to_string(d.retry_after_s)});
  return r;
}

// Concurrency slots are held until the response goes out (respond as it is when none).
Respond HoldingPermit(Respond respond, std::shared_ptr<limits::Permit> permit) {
  if (!permit) return respond;
  auto slot = std::make_shared<std::shared_ptr<limits::Permit>>(std::move(permit));
  return [respond = std::move(respond), slot](HttpResponse r) {
    slot->reset();
    respond(std::move(r));
  };
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

// A claim's answer, on the connection's thread: its JSON, then the response sent. Never inlined:
// rp-sim --exact counts the claim path inside it (callgrind --toggle-collect needs an entry).
[[gnu::noinline]] void AnswerClaim(const Respond& respond, const Result<core::ClaimOutcome>& r) {
  if (!r.ok()) return respond(ErrorResponse(r.status()));
  respond(JsonResponse(r->repeat ? 200 : 201, ClaimJson(*r)));
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
  // Who may call it is the route table's word: a switch over it, no default.
  switch (AccessOf(m.route)) {
    case RouteAccess::kNone:  // Answered above.
    case RouteAccess::kPublic:
      return done(m.route == Route::kHealthz ? Health() : Metrics());
    case RouteAccess::kSignature:  // Checked by PaymentCallback: the body's signature.
      return Limited(std::move(req), m, 0, std::move(done));
    case RouteAccess::kUser:
    case RouteAccess::kAdmin:
      break;
  }
  Result<auth::TokenCheck> token =
      Authenticate(req.authorization, d_.options->auth_secret, d_.clock->NowMs() / 1000);
  if (!token.ok()) return done(ErrorResponse(token.status()));
  if (AccessOf(m.route) == RouteAccess::kAdmin) {
    if (!token->admin) return done(ErrorResponse({Error::kForbidden, "needs an admin token"}));
    return Admin(req, m, std::move(done));
  }
  if (!token->user_id) {
    return done(
        ErrorResponse({Error::kForbidden, "an admin token carries no user; use a user token"}));
  }
  Limited(std::move(req), m, *token->user_id, std::move(done));
}

HttpResponse Api::Metrics() const {
  HttpResponse r;
  r.content_type = "text/plain; version=0.0.4";
  r.body = d_.hub->Render();
  return r;
}

// Past the limiter: the payment callback (signed, no user) or a user's route.
void Api::Admitted(const HttpRequest& req, const RouteMatch& m, int64_t user, Respond respond) {
  if (AccessOf(m.route) == RouteAccess::kSignature) return PaymentCallback(req, std::move(respond));
  Authenticated(req, m, user, std::move(respond));
}

// 200 while the server takes writes; 503 once its ledger stopped taking them (a failed disk
// operation, until restart), so a load balancer's health check takes it out of rotation.
HttpResponse Api::Health() const {
  Status writable = d_.ledger->Writable();
  if (writable.ok()) return JsonResponse(200, {{"status", "ok"}});
  return JsonResponse(503, {{"status", "writes_stopped"},
                            {"ledger", {{"writable", false}, {"reason", writable.message()}}}});
}

void Api::Limited(HttpRequest&& req, const RouteMatch& m, int64_t user, Respond respond) {
  const limits::Request lr{static_cast<int>(m.route), user, PacketIdOf(m)};
  limits::Limiter* limiter = d_.limiter;
  if (limiter == nullptr || !limiter->Limits(lr.route)) {
    return Admitted(req, m, user, std::move(respond));
  }
  RouteMatch match = m;  // Its views point into req.path.
  if (limiter->Blocks(lr.route) && d_.limits_pool != nullptr) {
    // Answered later, on the pool's thread: the request moves to the heap.
    auto held = std::make_shared<HttpRequest>(std::move(req));
    Status s = d_.limits_pool->Submit(
        [this, held, lr, respond] {
          Decided(held, lr.user_id, d_.limiter->Admit(lr, /*may_block=*/true), respond);
        },
        [this, held, lr, respond](const Status&) {  // Waited too long: the local buckets.
          Decided(held, lr.user_id, d_.limiter->Admit(lr, /*may_block=*/false), respond);
        });
    if (s.ok()) return;
    req = std::move(*held);  // Decided here, global rules by their local buckets (counted).
    match = MatchRoute(req.method, req.path);
  }
  limits::Decision d = limiter->Admit(lr, /*may_block=*/false);
  if (d.kind == limits::Decision::Kind::kAdmit) {  // The common case: on, at once, no copy.
    respond = HoldingPermit(std::move(respond), std::move(d.permit));
    return Admitted(req, match, user, std::move(respond));
  }
  Decided(std::make_shared<HttpRequest>(std::move(req)), user, std::move(d), std::move(respond));
}

void Api::Decided(std::shared_ptr<HttpRequest> held, int64_t user, limits::Decision d,
                  Respond respond) {
  if (d.kind == limits::Decision::Kind::kRefuse) return respond(RateLimited(d));
  respond = HoldingPermit(std::move(respond), std::move(d.permit));
  auto go = [this, held, user, respond] {
    const RouteMatch m = MatchRoute(held->method, held->path);  // Views into *held.
    Admitted(*held, m, user, respond);
  };
  if (d.kind != limits::Decision::Kind::kDelay || !d_.run_after) return go();
  if (waiting_.fetch_add(1) >= kWaitingMax) {
    waiting_.fetch_sub(1);
    d.retry_after_s = 1;
    d.rule = "waiting_max";
    d.message = limits::kDefaultMessage;
    return respond(RateLimited(d));
  }
  d_.run_after(d.delay_ms, [this, go] {
    waiting_.fetch_sub(1);
    go();
  });
}

void Api::Authenticated(const HttpRequest& req, const RouteMatch& m, int64_t user,
                        Respond respond) {
  int64_t packet_id = 0;
  const bool packet_route =
      m.route == Route::kGetPacket || m.route == Route::kClaim || m.route == Route::kListClaims;
  if (packet_route && !ParseId(m.id, &packet_id)) {
    return respond(
        ErrorResponse({Error::kInvalidPacketId,
                       "a packet id is a positive decimal integer without leading zeros"}));
  }
  switch (m.route) {
    case Route::kGrab:
      return Grab(std::string(m.id), user, std::move(respond));
    case Route::kSubsidies:
      return ListSubsidies(user, std::move(respond));
    case Route::kSendPacket:
      return SendPacket(req, user, std::move(respond));
    case Route::kGetPacket:
      return GetPacket(packet_id, std::move(respond));
    case Route::kClaim:
      return Claim(req, packet_id, user, std::move(respond));
    case Route::kListClaims:
      return ListClaims(req, packet_id, std::move(respond));
    // Not user routes: Handle dispatched them by their access before any token was read.
    case Route::kNone:
    case Route::kHealthz:
    case Route::kMetrics:
    case Route::kPaymentCallback:
    case Route::kAdminRecon:
    case Route::kAdminLimits:
    case Route::kAdminLimitsPut:
    case Route::kAdminDegrade:
    case Route::kAdminDegradePut:
      break;
  }
  respond(ErrorResponse({Error::kRouteNotFound, "no user route " + req.path}));
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
  // Answered on the writer's thread: the response is built on the connection's.
  d_.claims->Claim(packet_id, user_id, [respond, defer = req.defer](Result<core::ClaimOutcome> r) {
    auto answer = [respond, r = std::move(r)] { AnswerClaim(respond, r); };
    if (defer) return defer(std::move(answer));
    answer();
  });
}

void Api::OffIoThread(Respond respond, std::function<HttpResponse()> read) {
  if (d_.read_pool == nullptr) return respond(read());
  auto held = std::make_shared<Respond>(std::move(respond));
  Status s = d_.read_pool->Submit(
      [held, read = std::move(read)] {
        HttpResponse r;
        try {
          r = read();
        } catch (const std::exception& e) {
          spdlog::error("a ledger read failed with an exception: {}", e.what());
          r = ErrorResponse(Internal("unexpected error; see the server log"));
        }
        (*held)(std::move(r));
      },
      [held](Status refused) { (*held)(ErrorResponse(refused)); });  // Waited past its bound.
  if (!s.ok()) (*held)(ErrorResponse(s));
}

void Api::GetPacket(int64_t packet_id, Respond respond) {
  OffIoThread(std::move(respond), [this, packet_id] {
    Result<ledger::PacketRecord> p = query::GetPacket(*d_.ledger, packet_id);
    if (!p.ok()) return ErrorResponse(p.status());
    return JsonResponse(200, PacketDetailJson(*p));
  });
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
  // The others'-luck list is non-core: degraded, an empty page that says so.
  if (d_.degrader != nullptr && !d_.degrader->Start(base::Feature::kOthersLuck)) {
    return respond(JsonResponse(200, DegradedClaimsPageJson(packet_id)));
  }
  OffIoThread(std::move(respond), [this, packet_id, cursor, limit] {
    const int64_t start_ns = MonotonicNs();
    Result<query::ClaimsPage> page =
        query::ListClaims(*d_.ledger, packet_id, cursor, static_cast<int>(limit));
    if (d_.degrader != nullptr) {
      d_.degrader->Finish(base::Feature::kOthersLuck,
                          page.ok() || page.status().code() == Code::kNotFound,
                          (MonotonicNs() - start_ns) / 1'000'000);
    }
    if (!page.ok()) return ErrorResponse(page.status());
    return JsonResponse(200, ClaimsPageJson(packet_id, *page));
  });
}

void Api::Admin(const HttpRequest& req, const RouteMatch& m, Respond respond) {
  if (m.route == Route::kAdminRecon) return AdminRecon(req, std::move(respond));
  if (m.route == Route::kAdminLimits || m.route == Route::kAdminLimitsPut) {
    if (d_.limiter == nullptr) {
      return respond(ErrorResponse({Error::kInvalidLimits, "this server has no limiter"}));
    }
    if (m.route == Route::kAdminLimitsPut) {
      Result<limits::LimitsConfig> c =
          ParseLimitsBody(req.body, d_.limiter->routes(), d_.limiter->has_global_store());
      if (!c.ok()) return respond(ErrorResponse(c.status()));
      d_.limiter->Load(std::move(c.value()));
    }
    return respond(JsonResponse(200, limits::ToJson(d_.limiter->config())));
  }
  if (d_.degrader == nullptr) {
    return respond(ErrorResponse({Error::kInvalidFeature, "this server has no degrader"}));
  }
  if (m.route == Route::kAdminDegradePut) {
    Result<DegradeSwitch> sw = ParseDegradeBody(req.body);
    if (!sw.ok()) return respond(ErrorResponse(sw.status()));
    Status s = d_.degrader->Set(sw->feature, sw->mode);
    if (!s.ok()) return respond(ErrorResponse(s));
  }
  respond(JsonResponse(200, FeaturesJson(d_.degrader->States())));
}

// GET /admin/recon[?since=<unix seconds>]: a fresh reconciliation, run off the I/O threads.
void Api::AdminRecon(const HttpRequest& req, Respond respond) {
  int64_t since_s = 0;
  if (std::optional<std::string> since = QueryParam(req.query, "since")) {
    if (!ParseId(*since, &since_s) || since_s > recon::kSinceSecondsMax) {
      return respond(ErrorResponse(
          {Error::kInvalidSince, "since is unix seconds, 1.." +
                                     std::to_string(recon::kSinceSecondsMax) + " (year 9999)"}));
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
    if (!r.ok() && r.status().code() == Code::kUnavailable) {
      // A grab is core: never degraded, but a user meets a message fit to show, not ours.
      return respond(RetryLater(Status(r.status().err(), std::string(kGrabTryAgain))));
    }
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
