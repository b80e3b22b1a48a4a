#include "common/subsidy_token.h"

#include <openssl/evp.h>

#include <nlohmann/json.hpp>

#include "common/crypto.h"

namespace rp::subsidy {
namespace {

std::string Base64UrlEncode(std::string_view in) {
  std::string out(4 * ((in.size() + 2) / 3) + 1, '\0');
  int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                          reinterpret_cast<const unsigned char*>(in.data()),
                          static_cast<int>(in.size()));
  out.resize(static_cast<size_t>(n));
  while (!out.empty() && out.back() == '=') out.pop_back();
  for (char& c : out) c = c == '+' ? '-' : c == '/' ? '_' : c;
  return out;
}

bool Base64UrlDecode(std::string_view in, std::string* out) {
  if (in.empty() || in.size() > 4096) return false;
  std::string b64(in);
  for (char& c : b64) {
    if (c == '-')
      c = '+';
    else if (c == '_')
      c = '/';
    else if (c == '+' || c == '/' || c == '=')
      return false;
  }
  while (b64.size() % 4 != 0) b64.push_back('=');
  std::string raw(b64.size() / 4 * 3, '\0');
  int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(raw.data()),
                          reinterpret_cast<const unsigned char*>(b64.data()),
                          static_cast<int>(b64.size()));
  if (n < 0) return false;
  size_t pad = b64.size() - in.size();
  raw.resize(static_cast<size_t>(n) - pad);
  *out = std::move(raw);
  return true;
}

}  // namespace

std::string MintToken(std::string_view secret, const TokenClaims& c) {
  nlohmann::json j = {{"subsidy_id", c.subsidy_id},
                      {"user_id", c.user_id},
                      {"amount_cents", c.amount_cents},
                      {"round", c.round},
                      {"expires_at_s", c.expires_at_s}};
  std::string body = Base64UrlEncode(j.dump());
  return body + "." + crypto::HmacSha256Hex(secret, body);
}

Result<TokenClaims> VerifyToken(std::string_view secret, std::string_view token, int64_t now_s) {
  const Status bad = Status(Error::kInvalidSubsidyToken, "the subsidy token is not valid");
  size_t dot = token.rfind('.');
  if (dot == std::string_view::npos || token.size() - dot - 1 != 64) return bad;
  std::string_view body = token.substr(0, dot);
  if (!crypto::ConstantTimeEquals(crypto::HmacSha256Hex(secret, body), token.substr(dot + 1))) {
    return bad;
  }
  std::string raw;
  if (!Base64UrlDecode(body, &raw)) return bad;
  nlohmann::json j = nlohmann::json::parse(raw, nullptr, false);
  TokenClaims c;
  try {
    c = {j.at("subsidy_id"), j.at("user_id"), j.at("amount_cents"), j.at("round"),
         j.at("expires_at_s")};
  } catch (const nlohmann::json::exception&) {
    return bad;
  }
  if (c.subsidy_id.empty() || c.user_id <= 0 || c.amount_cents <= 0) return bad;
  if (c.expires_at_s <= now_s) return Status(Error::kSubsidyExpired, "the subsidy has expired");
  return c;
}

}  // namespace rp::subsidy
