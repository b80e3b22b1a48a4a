#include "server/gateway/auth.h"

namespace rp::gateway {

Result<auth::TokenCheck> Authenticate(const std::string& header, const std::string& secret,
                                      int64_t now_s) {
  std::string_view bearer(header);
  if (bearer.rfind("Bearer ", 0) != 0) {
    return Status(Error::kUnauthenticated, "an Authorization: Bearer <token> header is required");
  }
  auth::TokenCheck token = auth::VerifyToken(secret, bearer.substr(7), now_s);
  if (token.user_id || token.admin) return token;
  const char* why = token.error == auth::TokenError::kExpired        ? "the token has expired"
                    : token.error == auth::TokenError::kBadSignature ? "the token is forged"
                                                                     : "the token is malformed";
  return Status(Error::kUnauthenticated, why);
}

Status VerifySignature(const std::string& secret, const std::string& body,
                       const std::string& signature) {
  const std::string expected = crypto::HmacSha256Hex(secret, body);
  if (!crypto::ConstantTimeEquals(expected, signature)) {
    return {Error::kInvalidSignature, "X-RP-Signature is missing or does not match the body"};
  }
  return Status::Ok();
}

}  // namespace rp::gateway
