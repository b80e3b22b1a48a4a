#include "server/gateway/api.h"

#include <atomic>
#include <cstdlib>

#include <spdlog/spdlog.h>
#include <nlohmann/json.hpp>

#include <charconv>
#include <ctime>
#include <memory>

#include "common/crypto.h"
#include "server/core/payment.h"
#include "server/core/send.h"
#include "server/core/state_machine.h"
#include "server/gateway/request_json.h"
#include "server/query/packet_query.h"

namespace rp::gateway {
namespace {

using nlohmann::json;

}  // namespace

json PacketJson(const core::PacketRow& p) {
  json j = {{"packet_id", p.packet_id}, {"kind", p.kind},
            {"status", p.status},       {"total_cents", p.total_cents},
            {"count", p.count},         {"expires_at", FormatTimeMs(p.expires_at_ms)}};
  if (!p.pay_order_no.empty()) j["pay_order_no"] = p.pay_order_no;  // C2C only.
  return j;
}

namespace {

// Parses a positive decimal id of at most 18 digits (fits int64 with room).
bool ParseId(std::string_view s, int64_t* out) {
  if (s.empty() || s.size() > 18) return false;
  auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), *out);
  return ec == std::errc() && ptr == s.data() + s.size() && *out > 0;
}

// Splits "/v1/packets/123/claims" into {"v1","packets","123","claims"}.
std::vector<std::string_view> Segments(std::string_view path) {
  std::vector<std::string_view> out;
  size_t i = 0;
  while (i < path.size() && out.size() < 8) {
    if (path[i] == '/') {
      ++i;
      continue;
    }
    size_t j = path.find('/', i);
    if (j == std::string_view::npos) j = path.size();
    out.push_back(path.substr(i, j - i));
    i = j;
  }
  return out;
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

HttpResponse MethodNotAllowed(const std::string& allow) {
  HttpResponse r = ErrorResponse(
      {Code::kInvalidArgument, "method_not_allowed", "use " + allow + " on this path"});
  r.status = 405;
  r.headers.push_back({"Allow", allow});
  return r;
}

std::string ClaimResult(const Result<core::ClaimOutcome>& r) {
  if (r.ok()) return r->repeat ? "repeat" : "won";
  const std::string& e = r.status().error();
  if (e == "sold_out" || e == "expired" || e == "not_claimable" || e == "packet_not_found") {
    return e;
  }
  return "error";
}

}  // namespace

int HttpStatusOf(Code code) {
  switch (code) {
    case Code::kOk:
      return 200;
    case Code::kInvalidArgument:
      return 400;
    case Code::kUnauthenticated:
      return 401;
    case Code::kPermissionDenied:
      return 403;
    case Code::kNotFound:
      return 404;
    case Code::kConflict:
      return 409;
    case Code::kGone:
      return 410;
    case Code::kPayloadTooLarge:
      return 413;
    case Code::kUnavailable:
      return 503;
    case Code::kInternal:
      return 500;
  }
  return 500;
}

HttpResponse JsonResponse(int status, const nlohmann::json& body) {
  HttpResponse r;
  r.status = status;
  r.body = body.dump(-1, ' ', false, json::error_handler_t::replace);
  return r;
}

HttpResponse ErrorResponse(const Status& s) {
  return JsonResponse(HttpStatusOf(s.code()),
                      {{"error", {{"code", s.error()}, {"message", s.message()}}}});
}

std::string FormatTimeMs(int64_t ms) {
  std::time_t secs = static_cast<std::time_t>(ms / 1000);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[40];
  size_t n = std::strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%S", &tm);
  std::snprintf(buf + n, sizeof(buf) - n, ".%03dZ", static_cast<int>(ms % 1000));
  return buf;
}

namespace {

enum class Route {
  kNone,
  kHealthz,
  kMetrics,
  kPaymentCallback,
  kPackets,
  kPacket,
  kClaims,
  kAdminRecon,
  kGrab,
  kSubsidies
};

struct RouteMatch {
  Route route = Route::kNone;
  std::string label = "unmatched";  // Metrics label: "METHOD /template".
  std::string allow;                // Methods the path accepts.
  std::string_view id;              // The {id} segment, unparsed.
};

RouteMatch MatchRoute(const std::string& method, std::string_view path) {
  std::vector<std::string_view> seg = Segments(path);
  RouteMatch m;
  auto set = [&](Route r, const char* tmpl, const char* allow) {
    m.route = r;
    m.label = method + " " + tmpl;
    m.allow = allow;
  };
  if (seg.size() == 1 && seg[0] == "healthz") set(Route::kHealthz, "/healthz", "GET");
  if (seg.size() == 1 && seg[0] == "metrics") set(Route::kMetrics, "/metrics", "GET");
  if (seg.size() == 2 && seg[0] == "admin" && seg[1] == "recon") {
    set(Route::kAdminRecon, "/admin/recon", "GET");
  }
  if (seg.size() < 2 || seg[0] != "v1") return m;
  if (seg.size() == 4 && seg[1] == "rain" && seg[3] == "grab") {
    set(Route::kGrab, "/v1/rain/{round}/grab", "POST");
    m.id = seg[2];
  } else if (seg.size() == 2 && seg[1] == "subsidies") {
    set(Route::kSubsidies, "/v1/subsidies", "GET");
  } else if (seg.size() == 3 && seg[1] == "payments" && seg[2] == "callback") {
    set(Route::kPaymentCallback, "/v1/payments/callback", "POST");
  } else if (seg[1] == "packets" && seg.size() == 2) {
    set(Route::kPackets, "/v1/packets", "POST");
  } else if (seg[1] == "packets" && seg.size() == 3) {
    set(Route::kPacket, "/v1/packets/{id}", "GET");
    m.id = seg[2];
  } else if (seg[1] == "packets" && seg.size() == 4 && seg[3] == "claims") {
    set(Route::kClaims, "/v1/packets/{id}/claims", "GET, POST");
    m.id = seg[2];
  }
  return m;
}

bool MethodAllowed(const std::string& allow, const std::string& method) {
  return allow == method || (allow == "GET, POST" && (method == "GET" || method == "POST"));
}

// Authenticates a request. Unauthenticated with a reason when the token is not valid.
Result<auth::TokenCheck> Authenticate(const std::string& header, const std::string& secret,
                                      int64_t now_s) {
  std::string_view bearer(header);
  if (bearer.rfind("Bearer ", 0) != 0) {
    return Status(Code::kUnauthenticated, "unauthenticated",
                  "an Authorization: Bearer <token> header is required");
  }
  auth::TokenCheck token = auth::VerifyToken(secret, bearer.substr(7), now_s);
  if (token.user_id || token.admin) return token;
  const char* why = token.error == auth::TokenError::kExpired        ? "the token has expired"
                    : token.error == auth::TokenError::kBadSignature ? "the token is forged"
                                                                     : "the token is malformed";
  return Status(Code::kUnauthenticated, "unauthenticated", why);
}

}  // namespace

void Api::Handle(HttpRequest&& req, Respond respond) {
  const int64_t start_ns = MonotonicNs();
  RouteMatch m = MatchRoute(req.method, req.path);
  // Every response passes through `done`, so metrics see each request exactly once.
  ServerMetrics* metrics = d_.metrics;
  Respond done = [metrics, label = m.label, start_ns, respond](HttpResponse r) {
    metrics->ObserveRequest(label, r.status, static_cast<double>(MonotonicNs() - start_ns) / 1e9);
    respond(std::move(r));
  };
  if (m.route == Route::kNone) {
    return done(ErrorResponse(NotFound("route_not_found", "no route " + req.path)));
  }
  if (!MethodAllowed(m.allow, req.method)) {
    return done(MethodNotAllowed(m.allow));
  }
  switch (m.route) {
    case Route::kHealthz:
      return done(JsonResponse(200, {{"status", "ok"}}));
    case Route::kMetrics: {
      HttpResponse r;
      r.content_type = "text/plain; version=0.0.4";
      std::optional<async::AsyncStats> async_stats;
      if (d_.async != nullptr) async_stats = d_.async->Stats();
      std::optional<recon::ReconResult> last;
      if (d_.periodic_recon != nullptr) last = d_.periodic_recon->Last();
      ServerMetrics::Inputs in{d_.writer->Stats(),
                               core::IllegalTransitions(),
                               async_stats ? &*async_stats : nullptr,
                               last ? &*last : nullptr,
                               d_.audience ? d_.audience->degraded() : 0,
                               d_.scheme->Stats(),
                               {}};
      if (d_.stream_queue != nullptr) {
        const async::StreamQueueStats q = d_.stream_queue->Stats();
        in.streams.push_back({"tasks", q.backlog, q.lag_ms, q.relayed, q.fallback_leases});
      }
      if (d_.b2c != nullptr && d_.b2c->Stats().on_stream) {
        const core::B2cStats b = d_.b2c->Stats();
        in.streams.push_back(
            {"grabs", b.stream_backlog, b.stream_lag_ms, b.stream_published, b.stream_fallbacks});
      }
      r.body = d_.metrics->Render(in);
      return done(std::move(r));
    }
    case Route::kPaymentCallback:
      return PaymentCallback(req, std::move(done));
    default:
      break;
  }
  Result<auth::TokenCheck> token =
      Authenticate(req.authorization, d_.config->auth_secret, d_.clock->NowMs() / 1000);
  if (!token.ok()) return done(ErrorResponse(token.status()));
  if (m.route == Route::kAdminRecon) {
    if (!token->admin) {
      return done(ErrorResponse({Code::kPermissionDenied, "forbidden", "needs an admin token"}));
    }
    return AdminRecon(req, std::move(done));
  }
  if (!token->user_id) {
    return done(ErrorResponse({Code::kPermissionDenied, "forbidden",
                               "an admin token carries no user; use a user token"}));
  }
  const int64_t user = *token->user_id;
  if (m.route == Route::kGrab) return Grab(std::string(m.id), user, std::move(done));
  if (m.route == Route::kSubsidies) return ListSubsidies(user, std::move(done));
  int64_t packet_id = 0;
  if (m.route != Route::kPackets && !ParseId(m.id, &packet_id)) {  // kPacket, kClaims
    return done(ErrorResponse(
        InvalidArgument("invalid_packet_id", "a packet id is a positive decimal integer")));
  }
  if (m.route == Route::kPackets) return SendPacket(req, user, std::move(done));
  if (m.route == Route::kPacket) return GetPacket(packet_id, std::move(done));
  if (req.method == "POST") return Claim(req, packet_id, user, std::move(done));
  return ListClaims(req, packet_id, std::move(done));
}

void Api::SendPacket(const HttpRequest& req, int64_t user_id, Respond respond) {
  Result<RequestJson> body = RequestJson::Parse(req.body);
  if (!body.ok()) return respond(ErrorResponse(body.status()));
  core::SendRequest r;
  for (Status s :
       {body->String("order_no", &r.order_no, true), body->String("kind", &r.kind, true),
        body->Int("total_cents", &r.total_cents, true), body->Int("count", &r.count, true),
        body->String("split", &r.split, true), body->String("audience", &r.audience, true),
        body->String("video_id", &r.video_id, true), body->String("greeting", &r.greeting, false),
        body->String("subsidy_token", &r.subsidy_token, false), body->RejectUnknown(),
        core::ValidateSend(r, {d_.config->count_max, d_.config->share_cents_max,
                               d_.config->greeting_chars_max})}) {
    if (!s.ok()) return respond(ErrorResponse(s));
  }
  if (r.kind == "b2c") return SendB2c(r, user_id, std::move(respond));
  auto outcome = std::make_shared<core::SendOutcome>();
  const int64_t now_ms = d_.clock->NowMs();
  const int64_t ttl_ms = d_.config->packet_ttl_s * 1000;
  const int64_t cap = d_.config->share_cents_max;
  base::WriteJob job;
  std::optional<std::string> notify = d_.payment_notify_url;
  core::ClaimScheme* scheme = d_.scheme;
  job.fn = [r, user_id, cap, now_ms, ttl_ms, notify, outcome, scheme](sql::Db& db) {
    Status s = core::SendTx(db, r, user_id, cap, now_ms, ttl_ms, notify, outcome.get());
    if (!s.ok() || outcome->replay) return s;
    return scheme->PrepareNewPacket(db, outcome->packet);
  };
  job.done = [outcome, respond, scheme](const Status& s) {
    if (!s.ok()) return respond(ErrorResponse(s));
    if (!outcome->replay) scheme->NewPacketCommitted(outcome->packet);
    respond(JsonResponse(outcome->replay ? 200 : 201, PacketJson(outcome->packet)));
  };
  Status s = d_.writer->Submit(std::move(job));
  if (!s.ok()) respond(ErrorResponse(s));
}

void Api::PaymentCallback(const HttpRequest& req, Respond respond) {
  std::string expected = crypto::HmacSha256Hex(d_.config->payment_secret, req.body);
  if (!crypto::ConstantTimeEquals(expected, req.signature)) {
    return respond(ErrorResponse({Code::kUnauthenticated, "invalid_signature",
                                  "X-RP-Signature is missing or does not match the body"}));
  }
  Result<RequestJson> body = RequestJson::Parse(req.body);
  if (!body.ok()) return respond(ErrorResponse(body.status()));
  core::PaymentCallback cb;
  for (Status s : {body->String("pay_order_no", &cb.pay_order_no, true),
                   body->String("status", &cb.status, true),
                   body->Int("amount_cents", &cb.amount_cents, true), body->RejectUnknown()}) {
    if (!s.ok()) return respond(ErrorResponse(s));
  }
  if (cb.status != "paid" && cb.status != "failed") {
    return respond(
        ErrorResponse(InvalidArgument("invalid_status", "status must be paid or failed")));
  }
  if (cb.amount_cents < 1) {
    return respond(
        ErrorResponse(InvalidArgument("invalid_amount", "amount_cents must be positive")));
  }
  auto outcome = std::make_shared<core::PaymentOutcome>();
  const int64_t now_ms = d_.clock->NowMs();
  base::WriteJob job;
  job.fn = [cb, now_ms, outcome](sql::Db& db) {
    return core::PaymentTx(db, cb, now_ms, outcome.get());
  };
  job.done = [outcome, respond](const Status& s) {
    if (!s.ok()) return respond(ErrorResponse(s));
    json reply = PacketJson(outcome->packet);
    reply["duplicate"] = outcome->duplicate;
    reply["refunded_late"] = outcome->refunded_late;
    respond(JsonResponse(200, reply));
  };
  Status s = d_.writer->Submit(std::move(job));
  if (!s.ok()) respond(ErrorResponse(s));
}

#ifdef RP_FAULT_INJECTION
// A deliberately broken server, only in builds with -DRP_FAULT_INJECTION=ON (the test build):
// with RP_INJECT_BUG=phantom_claim every 10th sold-out claim is answered as a win that was never
// recorded. It exists to prove that rp-sim's verification catches a server that lies.
static bool InjectPhantomClaim(Result<core::ClaimOutcome>& r, int64_t packet_id, int64_t user_id) {
  static const bool on = [] {
    const char* bug = std::getenv("RP_INJECT_BUG");
    return bug != nullptr && std::string(bug) == "phantom_claim";
  }();
  static std::atomic<int64_t> sold_out{0};
  if (!on || r.ok() || r.status().error() != "sold_out" || ++sold_out % 10 != 0) return false;
  r = core::ClaimOutcome{900'000'000 + sold_out.load(), packet_id, user_id, 1, 0, "", false};
  return true;
}
#endif

void Api::Claim(const HttpRequest& req, int64_t packet_id, int64_t user_id, Respond respond) {
  Result<RequestJson> body = RequestJson::Parse(req.body, /*allow_empty=*/true);
  if (!body.ok()) return respond(ErrorResponse(body.status()));
  Status s = body->RejectUnknown();
  if (!s.ok()) return respond(ErrorResponse(s));
  ServerMetrics* metrics = d_.metrics;
  core::ClaimScheme* scheme = d_.scheme;
  auto claim = [scheme, metrics, packet_id, user_id, respond] {
    scheme->Claim(
        packet_id, user_id, [metrics, respond, packet_id, user_id](Result<core::ClaimOutcome> r) {
          metrics->CountClaim(ClaimResult(r));
#ifdef RP_FAULT_INJECTION
          if (InjectPhantomClaim(r, packet_id, user_id)) {
            return respond(JsonResponse(201, {{"claim_id", r->claim_id},
                                              {"packet_id", packet_id},
                                              {"amount_cents", r->amount_cents},
                                              {"status", "transfer_pending"},
                                              {"repeat", false}}));
          }
#endif
          if (!r.ok()) return respond(ErrorResponse(r.status()));
          respond(
              JsonResponse(r->repeat ? 200 : 201, {{"claim_id", r->claim_id},
                                                   {"packet_id", r->packet_id},
                                                   {"amount_cents", r->amount_cents},
                                                   {"status", r->status},
                                                   {"claimed_at", FormatTimeMs(r->claimed_at_ms)},
                                                   {"repeat", r->repeat}}));
        });
  };
  if (d_.audience == nullptr) return claim();
  // The receiving range: packet metadata from the read side, the relation from the social
  // service (blocking, so on the pool; see core/audience.h for how a failed lookup degrades).
  Result<query::PacketView> p = query::GetPacket(*d_.reads, packet_id);
  if (!p.ok()) return claim();  // The scheme gives the authoritative answer (e.g. 404).
  if (p->audience == "public" || p->sender_id == user_id) return claim();
  core::AudienceChecker* audience = d_.audience;
  const int64_t sender = p->sender_id;
  const std::string range = p->audience;
  s = Offload(respond, [=] {
    if (audience->Allows(sender, user_id, range)) return claim();
    metrics->CountClaim("not_in_audience");
    respond(ErrorResponse(
        {Code::kPermissionDenied, "not_in_audience", "this packet is for the sender's " + range}));
  });
  if (!s.ok()) respond(ErrorResponse(s));
}

void Api::GetPacket(int64_t packet_id, Respond respond) {
  Result<query::PacketView> p = query::GetPacket(*d_.reads, packet_id);
  if (!p.ok()) return respond(ErrorResponse(p.status()));
  respond(JsonResponse(200, {{"packet_id", p->packet_id},
                             {"kind", p->kind},
                             {"sender_id", p->sender_id},
                             {"status", p->status},
                             {"total_cents", p->total_cents},
                             {"count", p->count},
                             {"claimed_count", p->claimed_count},
                             {"claimed_cents", p->claimed_cents},
                             {"remaining_count", p->count - p->claimed_count},
                             {"remaining_cents", p->total_cents - p->claimed_cents},
                             {"created_at", FormatTimeMs(p->created_at_ms)},
                             {"expires_at", FormatTimeMs(p->expires_at_ms)}}));
}

void Api::ListClaims(const HttpRequest& req, int64_t packet_id, Respond respond) {
  int64_t limit = 20;
  int64_t cursor = 0;
  std::optional<std::string> limit_s = QueryParam(req.query, "limit");
  std::optional<std::string> cursor_s = QueryParam(req.query, "cursor");
  if (limit_s && (!ParseId(*limit_s, &limit) || limit > 100)) {
    return respond(ErrorResponse(InvalidArgument("invalid_limit", "limit must be 1..100")));
  }
  if (cursor_s && !cursor_s->empty() && !ParseId(*cursor_s, &cursor)) {
    return respond(ErrorResponse(InvalidArgument("invalid_cursor", "cursor is not one we issued")));
  }
  Result<query::ClaimsPage> page =
      query::ListClaims(*d_.reads, packet_id, cursor, static_cast<int>(limit));
  if (!page.ok()) return respond(ErrorResponse(page.status()));
  json claims = json::array();
  for (const query::ClaimView& c : page->claims) {
    json item = {{"claim_id", c.claim_id},
                 {"user_id", c.user_id},
                 {"amount_cents", c.amount_cents},
                 {"claimed_at", FormatTimeMs(c.claimed_at_ms)}};
    if (c.best_luck) item["best_luck"] = true;
    claims.push_back(std::move(item));
  }
  json body = {{"packet_id", packet_id}, {"claims", std::move(claims)}};
  body["next_cursor"] =
      page->next_cursor ? json(std::to_string(*page->next_cursor)) : json(nullptr);
  body["best_luck_claim_id"] =
      page->best_luck_claim_id ? json(*page->best_luck_claim_id) : json(nullptr);
  respond(JsonResponse(200, body));
}

}  // namespace rp::gateway

namespace rp::gateway {

Status Api::Offload(const Respond& respond, std::function<void()> work) {
  return d_.blocking->Submit([respond, work = std::move(work)] {
    try {
      work();
    } catch (const std::exception& e) {
      spdlog::error("request failed with an exception: {}", e.what());
      respond(ErrorResponse(Internal("unexpected error; see the server log")));
    }
  });
}

// GET /admin/recon[?since=<unix seconds>]: a fresh reconciliation, run off the I/O threads.
void Api::AdminRecon(const HttpRequest& req, Respond respond) {
  recon::ReconOptions options{d_.config->payment_url, d_.config->wallet_url, d_.config->reward_url,
                              d_.config->async_call_deadline_ms * 2, 0};
  if (std::optional<std::string> since = QueryParam(req.query, "since")) {
    int64_t since_s = 0;
    if (!ParseId(*since, &since_s)) {
      return respond(ErrorResponse(InvalidArgument("invalid_since", "since is unix seconds")));
    }
    options.since_ms = since_s * 1000;
  }
  query::ReadPool* reads = d_.reads;
  const Clock* clock = d_.clock;
  Status s = Offload(respond, [reads, clock, options, respond] {
    Result<recon::ReconResult> r = recon::Run(*reads, options, *clock);
    if (!r.ok()) return respond(ErrorResponse(r.status()));
    respond(JsonResponse(200, recon::ToJson(*r)));
  });
  if (!s.ok()) respond(ErrorResponse(s));
}

}  // namespace rp::gateway
