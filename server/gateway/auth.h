// Authentication of API requests: a bearer token (HMAC-SHA256 over user id and expiry,
// common/crypto.h) or, for payment callbacks, the payment service's body signature.
#pragma once

#include <string>

#include "common/crypto.h"
#include "common/status.h"

namespace rp::gateway {

// Unauthenticated with a reason ("expired", "forged", "malformed") unless the Authorization
// header carries a valid token at now_s.
Result<auth::TokenCheck> Authenticate(const std::string& authorization, const std::string& secret,
                                      int64_t now_s);

// Unauthenticated(invalid_signature) unless signature is the hex HMAC-SHA256 of body.
Status VerifySignature(const std::string& secret, const std::string& body,
                       const std::string& signature);

}  // namespace rp::gateway
