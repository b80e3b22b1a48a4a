// Responses of the gateway: JSON bodies (invalid UTF-8 replaced, never thrown on) and the error
// body {"error":{"code","message"}} with the HTTP status of the error's class.
#pragma once

#include <nlohmann/json.hpp>

#include "common/status.h"
#include "server/gateway/http_server.h"

namespace rp::gateway {

HttpResponse JsonResponse(int status, const nlohmann::json& body);
HttpResponse ErrorResponse(const Status& s);

}  // namespace rp::gateway
