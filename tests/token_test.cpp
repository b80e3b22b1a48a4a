#include <gtest/gtest.h>

#include "common/crypto.h"

namespace rp::auth {
namespace {

constexpr const char* kSecret = "secret-secret-secret";

TEST(TokenTest, RoundTrips) {
  std::string t = MintToken(kSecret, 42, 2000);
  TokenCheck c = VerifyToken(kSecret, t, 1000);
  ASSERT_TRUE(c.user_id.has_value());
  EXPECT_EQ(*c.user_id, 42);
}

TEST(TokenTest, RejectsExpiredForgedAndMalformed) {
  std::string t = MintToken(kSecret, 42, 2000);
  EXPECT_EQ(VerifyToken(kSecret, t, 2000).error, TokenError::kExpired);
  EXPECT_FALSE(VerifyToken(kSecret, t, 2000).user_id);
  EXPECT_EQ(VerifyToken("other-secret-xxxxxx", t, 1000).error, TokenError::kBadSignature);
  std::string other_user = "43" + t.substr(2);  // Same signature, another user.
  EXPECT_EQ(VerifyToken(kSecret, other_user, 1000).error, TokenError::kBadSignature);
  for (std::string bad : std::vector<std::string>{
           "", "42", "42.2000", "42.2000.", "x.2000." + std::string(64, 'a'),
           "-1.2000." + std::string(64, 'a'), "42.2000.abc", "0.2000." + std::string(64, 'a')}) {
    TokenCheck c = VerifyToken(kSecret, bad, 1000);
    EXPECT_FALSE(c.user_id) << bad;
    EXPECT_EQ(c.error, TokenError::kMalformed) << bad;
  }
}

TEST(TokenTest, AdminTokensAreDistinctFromUserTokens) {
  std::string admin = MintAdminToken(kSecret, 2000);
  TokenCheck c = VerifyToken(kSecret, admin, 1000);
  EXPECT_TRUE(c.admin);
  EXPECT_FALSE(c.user_id);
  EXPECT_FALSE(VerifyToken(kSecret, MintToken(kSecret, 42, 2000), 1000).admin);
  EXPECT_EQ(VerifyToken(kSecret, admin, 2000).error, TokenError::kExpired);
  EXPECT_EQ(VerifyToken("other-secret-xxxxxx", admin, 1000).error, TokenError::kBadSignature);
}

TEST(CryptoTest, HmacMatchesKnownVector) {
  // RFC 4231 test case 2.
  EXPECT_EQ(crypto::HmacSha256Hex("Jefe", "what do ya want for nothing?"),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
}

}  // namespace
}  // namespace rp::auth
