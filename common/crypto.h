// Small wrappers over OpenSSL for the signatures this project uses. Thread-safe; no state.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace rp::crypto {

// Lower-case hex of HMAC-SHA256(key, data).
std::string HmacSha256Hex(std::string_view key, std::string_view data);

// Lower-case hex of SHA-256(data).
std::string Sha256Hex(std::string_view data);

// Lower-case hex of SHA-1(data). Only for naming things (Redis script ids), never for security.
std::string Sha1Hex(std::string_view data);

// Lower-case hex of `bytes` bytes from OpenSSL's CSPRNG (secrets, passwords). Aborts if the
// generator cannot be seeded: a predictable secret is never returned.
std::string RandomHex(size_t bytes);

// Compares in time independent of where the inputs differ (for signatures).
bool ConstantTimeEquals(std::string_view a, std::string_view b);

}  // namespace rp::crypto

namespace rp::auth {

// Bearer tokens: "<user_id>.<expires_at_s>.<hex HMAC-SHA256(secret, "<user_id>.<expires_at_s>")>".
// A user id is a positive int64; anything else is malformed.
std::string MintToken(std::string_view secret, int64_t user_id, int64_t expires_at_s);

// Admin tokens: "admin.<expires_at_s>.<hex HMAC-SHA256(secret, "admin.<expires_at_s>")>". They
// grant /admin/* and no user identity.
std::string MintAdminToken(std::string_view secret, int64_t expires_at_s);

enum class TokenError { kMalformed, kBadSignature, kExpired };

struct TokenCheck {
  std::optional<int64_t> user_id;  // Set when a valid user token.
  bool admin = false;              // True when a valid admin token.
  TokenError error = TokenError::kMalformed;
};

// Verifies a token at time now_s. Never throws.
TokenCheck VerifyToken(std::string_view secret, std::string_view token, int64_t now_s);

}  // namespace rp::auth
