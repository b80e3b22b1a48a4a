#include "common/crypto.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

#include <charconv>

#include "common/check.h"

namespace rp::crypto {
namespace {

std::string ToHex(const unsigned char* bytes, size_t n) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out(n * 2, '0');
  for (size_t i = 0; i < n; ++i) {
    out[2 * i] = kDigits[bytes[i] >> 4];
    out[2 * i + 1] = kDigits[bytes[i] & 0xf];
  }
  return out;
}

}  // namespace

std::string HmacSha256Hex(std::string_view key, std::string_view data) {
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  unsigned char* ok =
      HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
           reinterpret_cast<const unsigned char*>(data.data()), data.size(), mac, &len);
  RP_CHECK(ok != nullptr);
  return ToHex(mac, len);
}

std::string Sha256Hex(std::string_view data) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  RP_CHECK(EVP_Digest(data.data(), data.size(), md, &len, EVP_sha256(), nullptr) == 1);
  return ToHex(md, len);
}

std::string RandomHex(size_t bytes) {
  std::string raw(bytes, '\0');
  RP_CHECK(RAND_bytes(reinterpret_cast<unsigned char*>(raw.data()), static_cast<int>(bytes)) == 1);
  return ToHex(reinterpret_cast<const unsigned char*>(raw.data()), raw.size());
}

std::string Sha1Hex(std::string_view data) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  RP_CHECK(EVP_Digest(data.data(), data.size(), md, &len, EVP_sha1(), nullptr) == 1);
  return ToHex(md, len);
}

bool ConstantTimeEquals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  return CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

}  // namespace rp::crypto

namespace rp::auth {
namespace {

bool ParsePositive(std::string_view s, int64_t* out) {
  if (s.empty() || s.size() > 19) return false;
  auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), *out);
  return ec == std::errc() && ptr == s.data() + s.size() && *out > 0;
}

}  // namespace

std::string MintToken(std::string_view secret, int64_t user_id, int64_t expires_at_s) {
  RP_CHECK(user_id > 0);
  std::string payload = std::to_string(user_id) + "." + std::to_string(expires_at_s);
  return payload + "." + crypto::HmacSha256Hex(secret, payload);
}

std::string MintAdminToken(std::string_view secret, int64_t expires_at_s) {
  std::string payload = "admin." + std::to_string(expires_at_s);
  return payload + "." + crypto::HmacSha256Hex(secret, payload);
}

TokenCheck VerifyToken(std::string_view secret, std::string_view token, int64_t now_s) {
  TokenCheck result;
  size_t dot1 = token.find('.');
  if (dot1 == std::string_view::npos) return result;
  size_t dot2 = token.find('.', dot1 + 1);
  if (dot2 == std::string_view::npos) return result;
  int64_t user_id = 0;
  int64_t expires_at_s = 0;
  const bool admin = token.substr(0, dot1) == "admin";
  if ((!admin && !ParsePositive(token.substr(0, dot1), &user_id)) ||
      !ParsePositive(token.substr(dot1 + 1, dot2 - dot1 - 1), &expires_at_s) ||
      token.size() - dot2 - 1 != 64) {
    return result;
  }
  std::string expected = crypto::HmacSha256Hex(secret, token.substr(0, dot2));
  if (!crypto::ConstantTimeEquals(expected, token.substr(dot2 + 1))) {
    result.error = TokenError::kBadSignature;
    return result;
  }
  if (expires_at_s <= now_s) {
    result.error = TokenError::kExpired;
    return result;
  }
  if (admin) {
    result.admin = true;
  } else {
    result.user_id = user_id;
  }
  return result;
}

}  // namespace rp::auth
