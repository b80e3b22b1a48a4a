#include "server/gateway/routes.h"

#include <array>
#include <vector>

namespace rp::gateway {
namespace {

struct RouteInfo {
  Route route;
  RouteAccess access;
  std::string_view limit_name;
  std::string_view method;
  std::string_view label;
  std::string_view bad_method_label;
  std::string_view allow;
};

constexpr std::array<RouteInfo, kRouteCount> kRoutes = {{
    {Route::kNone, RouteAccess::kNone, "", "", "unmatched", "unmatched", ""},
    {Route::kHealthz, RouteAccess::kPublic, "", "GET", "GET /healthz", "/healthz (bad method)",
     "GET"},
    {Route::kMetrics, RouteAccess::kPublic, "", "GET", "GET /metrics", "/metrics (bad method)",
     "GET"},
    {Route::kPaymentCallback, RouteAccess::kSignature, "payment_callback", "POST",
     "POST /v1/payments/callback", "/v1/payments/callback (bad method)", "POST"},
    {Route::kSendPacket, RouteAccess::kUser, "send", "POST", "POST /v1/packets",
     "/v1/packets (bad method)", "POST"},
    {Route::kGetPacket, RouteAccess::kUser, "get_packet", "GET", "GET /v1/packets/{id}",
     "/v1/packets/{id} (bad method)", "GET"},
    {Route::kListClaims, RouteAccess::kUser, "list_claims", "GET", "GET /v1/packets/{id}/claims",
     "/v1/packets/{id}/claims (bad method)", "GET, POST"},
    {Route::kClaim, RouteAccess::kUser, "claim", "POST", "POST /v1/packets/{id}/claims",
     "/v1/packets/{id}/claims (bad method)", "GET, POST"},
    {Route::kAdminRecon, RouteAccess::kAdmin, "", "GET", "GET /admin/recon",
     "/admin/recon (bad method)", "GET"},
    {Route::kGrab, RouteAccess::kUser, "grab", "POST", "POST /v1/rain/{round}/grab",
     "/v1/rain/{round}/grab (bad method)", "POST"},
    {Route::kSubsidies, RouteAccess::kUser, "subsidies", "GET", "GET /v1/subsidies",
     "/v1/subsidies (bad method)", "GET"},
    {Route::kAdminLimits, RouteAccess::kAdmin, "", "GET", "GET /admin/limits",
     "/admin/limits (bad method)", "GET, PUT"},
    {Route::kAdminLimitsPut, RouteAccess::kAdmin, "", "PUT", "PUT /admin/limits",
     "/admin/limits (bad method)", "GET, PUT"},
    {Route::kAdminDegrade, RouteAccess::kAdmin, "", "GET", "GET /admin/degrade",
     "/admin/degrade (bad method)", "GET, PUT"},
    {Route::kAdminDegradePut, RouteAccess::kAdmin, "", "PUT", "PUT /admin/degrade",
     "/admin/degrade (bad method)", "GET, PUT"},
}};

// One row per Route, in enumerator order: a row left out would silently read as kNone's.
constexpr bool RowsInOrder() {
  for (size_t i = 0; i < kRoutes.size(); ++i) {
    if (kRoutes[i].route != static_cast<Route>(i)) return false;
  }
  return true;
}
static_assert(RowsInOrder(), "kRoutes needs one row per Route, in enumerator order");

// Splits "/v1/packets/123/claims" into {"v1","packets","123","claims"}; at most 8 segments.
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

// The route(s) a path names, without regard to the method; kListClaims stands for both of
// /v1/packets/{id}/claims.
Route PathRoute(const std::vector<std::string_view>& seg, std::string_view* id) {
  if (seg.size() == 1 && seg[0] == "healthz") return Route::kHealthz;
  if (seg.size() == 1 && seg[0] == "metrics") return Route::kMetrics;
  if (seg.size() == 2 && seg[0] == "admin" && seg[1] == "recon") return Route::kAdminRecon;
  if (seg.size() == 2 && seg[0] == "admin" && seg[1] == "limits") return Route::kAdminLimits;
  if (seg.size() == 2 && seg[0] == "admin" && seg[1] == "degrade") return Route::kAdminDegrade;
  if (seg.size() < 2 || seg[0] != "v1") return Route::kNone;
  if (seg.size() == 4 && seg[1] == "rain" && seg[3] == "grab") {
    *id = seg[2];
    return Route::kGrab;
  }
  if (seg.size() == 2 && seg[1] == "subsidies") return Route::kSubsidies;
  if (seg.size() == 3 && seg[1] == "payments" && seg[2] == "callback") {
    return Route::kPaymentCallback;
  }
  if (seg[1] != "packets") return Route::kNone;
  if (seg.size() == 2) return Route::kSendPacket;
  if (seg.size() == 3) {
    *id = seg[2];
    return Route::kGetPacket;
  }
  if (seg.size() == 4 && seg[3] == "claims") {
    *id = seg[2];
    return Route::kListClaims;
  }
  return Route::kNone;
}

}  // namespace

RouteMatch MatchRoute(std::string_view method, std::string_view path) {
  RouteMatch m;
  // One spelling per path: "//v1/packets/5", "/v1/packets/5/" or "/v1//packets/5" name nothing,
  // so no spelling HAProxy hashes differently can reach a packet's second instance.
  const bool canonical = path.size() > 1 && path.front() == '/' && path.back() != '/' &&
                         path.find("//") == std::string_view::npos;
  if (canonical) m.route = PathRoute(Segments(path), &m.id);
  if (m.route == Route::kListClaims && method == "POST") m.route = Route::kClaim;
  if (m.route == Route::kAdminLimits && method == "PUT") m.route = Route::kAdminLimitsPut;
  if (m.route == Route::kAdminDegrade && method == "PUT") m.route = Route::kAdminDegradePut;
  const RouteInfo& info = kRoutes[static_cast<size_t>(m.route)];
  m.allow = info.allow;
  m.method_allowed = m.route != Route::kNone && method == info.method;
  return m;
}

RouteAccess AccessOf(Route r) {
  return kRoutes[static_cast<size_t>(r)].access;
}

std::string_view LimitName(Route r) {
  return kRoutes[static_cast<size_t>(r)].limit_name;
}

std::vector<std::string> LimitRouteNames() {
  std::vector<std::string> out;
  for (const RouteInfo& info : kRoutes) out.emplace_back(info.limit_name);
  return out;
}

std::string_view RouteLabel(const RouteMatch& m) {
  const RouteInfo& info = kRoutes[static_cast<size_t>(m.route)];
  return m.method_allowed || m.route == Route::kNone ? info.label : info.bad_method_label;
}

}  // namespace rp::gateway
