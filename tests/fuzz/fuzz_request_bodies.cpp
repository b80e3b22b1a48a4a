// Request bodies of every route, as the gateway parses them: the strict JSON reader, send,
// payment callback, claim, and the admin routes' limits and degrade switches.
#include "server/gateway/admin_json.h"
#include "server/gateway/json_mapping.h"
#include "server/gateway/request_json.h"
#include "server/gateway/routes.h"
#include "tests/fuzz/fuzz_target.h"

// (void): every result is dropped on purpose; the target looks for crashes, hangs and sanitizer
// reports, which an answer (ok or an error) never is.
extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace rp::gateway;
  const auto [which, body] = rp::fuzz::Split(data, size);
  switch (which % 6) {
    case 0: {
      auto j = RequestJson::Parse(body, (which & 0x80) != 0);
      if (!j.ok()) break;
      std::string s;
      int64_t n = 0;
      (void)j->String("order_no", &s, false);
      (void)j->Int("total_cents", &n, false);
      (void)j->RejectUnknown();
      break;
    }
    case 1:
      (void)ParseSendBody(body);  // Field rules (lengths, ranges) are core's: core_test.
      break;
    case 2:
      (void)ParseCallbackBody(body);
      break;
    case 3:
      (void)ParseClaimBody(body);
      break;
    case 4: {
      static const std::vector<std::string> routes = LimitRouteNames();
      (void)ParseLimitsBody(body, routes, (which & 0x80) != 0);
      break;
    }
    default:
      (void)ParseDegradeBody(body);
  }
  return 0;
}
