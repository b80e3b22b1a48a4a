#include "server/gateway/http_errors.h"

namespace rp::gateway {

HttpResponse JsonResponse(int status, const nlohmann::json& body) {
  HttpResponse r;
  r.status = status;
  r.body = body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  return r;
}

HttpResponse ErrorResponse(const Status& s) {
  return JsonResponse(HttpStatusOf(s.code()),
                      {{"error", {{"code", s.error()}, {"message", s.message()}}}});
}

}  // namespace rp::gateway
