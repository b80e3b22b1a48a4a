// The routes of rp-server's API (docs/api.md) and how a request path finds one. Each route has
// a fixed metrics label ("POST /v1/packets/{id}/claims"), so /metrics cardinality is bounded by
// the route table whatever paths and methods clients send.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace rp::gateway {

enum class Route : uint8_t {
  kNone,
  kHealthz,
  kMetrics,
  kPaymentCallback,
  kSendPacket,
  kGetPacket,
  kListClaims,
  kClaim,
  kAdminRecon,
  kGrab,
  kSubsidies,
  kAdminLimits,
  kAdminLimitsPut,
  kAdminDegrade,
  kAdminDegradePut,
};
// Routes in all: the last enumerator's value + 1 (routes.cpp checks its table has one row each).
inline constexpr int kRouteCount = static_cast<int>(Route::kAdminDegradePut) + 1;

// Who may call a route, from its row in the route table.
enum class RouteAccess : uint8_t {
  kNone,       // kNone: no route.
  kPublic,     // Health and metrics: no token.
  kSignature,  // The payment service's callback: its body's signature, no token.
  kUser,       // A user token.
  kAdmin,      // An admin token.
};

struct RouteMatch {
  Route route = Route::kNone;
  bool method_allowed = false;
  std::string_view allow;  // Methods the path accepts, for 405's Allow header.
  std::string_view id;     // The {id} or {round} segment, unparsed (a view into the path).
};

// Finds the route of (method, path). path must outlive the match (id points into it).
RouteMatch MatchRoute(std::string_view method, std::string_view path);

RouteAccess AccessOf(Route r);

// The name rate-limit rules use for a route ("claim", "send", ...; "" for routes no rule may
// limit: health, metrics, admin), and all of them indexed by the Route's value.
std::string_view LimitName(Route r);
std::vector<std::string> LimitRouteNames();

// The metrics label of a match: "METHOD /template", "unmatched", or "/template (bad method)".
std::string_view RouteLabel(const RouteMatch& m);

}  // namespace rp::gateway
