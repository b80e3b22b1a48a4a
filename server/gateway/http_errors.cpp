#include "server/gateway/http_errors.h"

namespace rp::gateway {

HttpResponse JsonResponse(int status, const nlohmann::json& body) {
  HttpResponse r;
  r.status = status;
  r.body = body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  return r;
}

HttpResponse ErrorResponse(const Status& s) {
  HttpResponse r = JsonResponse(HttpStatusOf(s.code()),
                                {{"error", {{"code", s.error()}, {"message", s.message()}}}});
  // Every 503 (storage busy, overloaded, a dependency down) is temporary: say when to come back
  // (RFC 9110, whole seconds), so clients back off instead of hammering a struggling server.
  if (r.status == 503) r.headers.push_back({"Retry-After", "1"});
  return r;
}

HttpResponse RetryLater(const Status& s) {
  HttpResponse r = JsonResponse(503, {{"error", {{"code", s.error()}, {"message", s.message()}}}});
  r.headers.push_back({"Retry-After", "1"});
  return r;
}

}  // namespace rp::gateway
