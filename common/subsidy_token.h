// Subsidy tokens: what the reward service hands a user who grabbed a subsidy in a red-packet
// rain, and what the server verifies before a B2C packet may use it.
//   token = <base64url, no padding, of the compact JSON
//            {"subsidy_id","user_id","amount_cents","round","expires_at_s"}>
//           "." <hex HMAC-SHA256(reward secret, that base64url text)>
// Signed, not encrypted: its content is not secret, forging it is what must be impossible.
// Pure functions; thread-safe.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "common/status.h"

namespace rp::subsidy {

struct TokenClaims {
  std::string subsidy_id;
  int64_t user_id = 0;
  int64_t amount_cents = 0;
  std::string round;
  int64_t expires_at_s = 0;
};

std::string MintToken(std::string_view secret, const TokenClaims& claims);

// InvalidArgument("invalid_subsidy_token") when malformed or forged (one error for both, so a
// forger learns nothing); Gone("subsidy_expired") when past expires_at_s at now_s.
Result<TokenClaims> VerifyToken(std::string_view secret, std::string_view token, int64_t now_s);

}  // namespace rp::subsidy
