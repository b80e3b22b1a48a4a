// Responses of the gateway: JSON bodies (invalid UTF-8 replaced, never thrown on) and the error
// body {"error":{"code","message"}} with the HTTP status of the error's class.
#pragma once

#include <nlohmann/json.hpp>

#include "common/status.h"
#include "server/gateway/http_server.h"

namespace rp::gateway {

HttpResponse JsonResponse(int status, const nlohmann::json& body);
// The error body with its class's status; an Overloaded one (a bounded queue or pool refused
// the request: over in a moment) as RetryLater.
HttpResponse ErrorResponse(const Status& s);
// The error body with 503 and Retry-After: 1 (RFC 9110: whole seconds), for a refusal the
// client should simply repeat shortly.
HttpResponse RetryLater(const Status& s);

}  // namespace rp::gateway
