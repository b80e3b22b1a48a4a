// Bearer tokens (the Authorization header), payment callback signatures and subsidy tokens.
// A token minted with the secret must verify; a forged or mangled one must not verify as
// anyone.
#include "common/crypto.h"
#include "common/subsidy_token.h"
#include "server/gateway/auth.h"
#include "tests/fuzz/fuzz_target.h"

namespace {
constexpr const char* kSecret = "fuzz-secret-0123456789abcdef";
constexpr int64_t kNow = 1'800'000'000;
}  // namespace

// (void): every result is dropped on purpose; the target looks for crashes, hangs and sanitizer
// reports, which an answer (ok or an error) never is.
extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const auto [which, text] = rp::fuzz::Split(data, size);
  switch (which % 4) {
    case 0:
      (void)rp::gateway::Authenticate(text, kSecret, kNow);
      break;
    case 1: {
      const size_t cut = text.find('\n');
      const std::string body = text.substr(0, cut);
      const std::string sig = cut == std::string::npos ? "" : text.substr(cut + 1);
      if (rp::gateway::VerifySignature(kSecret, body, sig).ok() &&
          sig != rp::crypto::HmacSha256Hex(kSecret, body)) {
        rp::fuzz::Fail("a signature that is not the body's HMAC verified");
      }
      break;
    }
    case 2:
      (void)rp::subsidy::VerifyToken(kSecret, text, kNow);
      break;
    default: {
      // Mutations of a real token: a verified one names the minted user, or is the token itself.
      const std::string real = rp::auth::MintToken(kSecret, 42, kNow + 60);
      std::string mangled = real;
      for (size_t i = 0; i < text.size() && !mangled.empty(); ++i) {
        mangled[static_cast<unsigned char>(text[i]) % mangled.size()] = text[i];
      }
      const rp::auth::TokenCheck c = rp::auth::VerifyToken(kSecret, mangled, kNow);
      if (c.user_id && *c.user_id != 42) rp::fuzz::Fail("a mangled token verified as another user");
    }
  }
  return 0;
}
