// The gateway alone (this test links rp_gateway and what it is built on, no server): request
// JSON into core's types, strictly; errors into statuses and bodies; routes and their bounded
// metrics labels; records into the API's response shapes.
#include <gtest/gtest.h>

#include <set>

#include "server/gateway/http_errors.h"
#include "server/gateway/json_mapping.h"
#include "server/gateway/request_json.h"
#include "server/gateway/routes.h"

namespace rp::gateway {
namespace {

using nlohmann::json;

TEST(RequestJsonTest, FieldsAreReadByNameAndTypeUnknownOnesRefused) {
  Result<RequestJson> j = RequestJson::Parse(R"({"a":"x","n":5,"extra":1})");
  ASSERT_TRUE(j.ok());
  std::string a;
  int64_t n = 0, missing = 7;
  EXPECT_TRUE(j->String("a", &a, true).ok());
  EXPECT_TRUE(j->Int("n", &n, true).ok());
  EXPECT_TRUE(j->Int("m", &missing, false).ok());
  EXPECT_EQ(missing, 7);  // Optional and absent: untouched.
  EXPECT_TRUE(j->Int("m", &missing, true).Is(Error::kMissingField));
  EXPECT_TRUE(j->RejectUnknown().Is(Error::kUnknownField));
  EXPECT_EQ(a, "x");
  EXPECT_EQ(n, 5);
}

TEST(RequestJsonTest, AmountsAreWholeInt64sOnly) {
  int64_t v = 0;
  for (const char* body : {R"({"v":1.5})", R"({"v":1.0})", R"({"v":"5"})", R"({"v":true})"}) {
    Result<RequestJson> j = RequestJson::Parse(body);
    ASSERT_TRUE(j.ok()) << body;
    EXPECT_TRUE(j->Int("v", &v, true).Is(Error::kInvalidType)) << body;
  }
  for (const char* body : {R"({"v":9223372036854775808})", R"({"v":1e300})"}) {
    Result<RequestJson> j = RequestJson::Parse(body);
    ASSERT_TRUE(j.ok()) << body;
    EXPECT_TRUE(j->Int("v", &v, true).Is(Error::kInvalidAmount)) << body;
  }
  Result<RequestJson> max = RequestJson::Parse(R"({"v":9223372036854775807})");
  ASSERT_TRUE(max.ok());
  EXPECT_TRUE(max->Int("v", &v, true).ok());
  EXPECT_EQ(v, INT64_MAX);
}

TEST(RequestJsonTest, OnlyObjectsAreBodies) {
  for (const char* body : {"", "[]", "3", "nul", "{\"a\":", "\"x\""}) {
    EXPECT_TRUE(RequestJson::Parse(body).status().Is(Error::kInvalidJson)) << body;
  }
  EXPECT_TRUE(RequestJson::Parse("", /*allow_empty=*/true).ok());
}

TEST(JsonMappingTest, SendBodiesMapToRequestsAndRefuseStrangers) {
  Result<core::SendRequest> r =
      ParseSendBody(R"({"order_no":"o","kind":"c2c","total_cents":100,"count":2,"split":"even",)"
                    R"("audience":"fans","video_id":"v","greeting":"hi"})");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->total_cents, 100);
  EXPECT_EQ(r->audience, "fans");
  EXPECT_TRUE(ParseSendBody(R"({"order_no":"o"})").status().Is(Error::kMissingField));
  EXPECT_TRUE(ParseSendBody(R"({"order_no":"o","kind":"c2c","total_cents":100,"count":2,)"
                            R"("split":"even","audience":"fans","video_id":"v","x":1})")
                  .status()
                  .Is(Error::kUnknownField));
}

TEST(JsonMappingTest, CallbacksNeedAKnownStatusAndAPositiveAmount) {
  Result<core::PaymentCallback> ok =
      ParseCallbackBody(R"({"pay_order_no":"PAY1","status":"paid","amount_cents":5})");
  ASSERT_TRUE(ok.ok());
  EXPECT_EQ(ok->status, ledger::PaymentStatus::kPaid);
  EXPECT_TRUE(ParseCallbackBody(R"({"pay_order_no":"PAY1","status":"maybe","amount_cents":5})")
                  .status()
                  .Is(Error::kInvalidStatus));
  EXPECT_TRUE(ParseCallbackBody(R"({"pay_order_no":"PAY1","status":"paid","amount_cents":0})")
                  .status()
                  .Is(Error::kInvalidAmount));
  EXPECT_TRUE(ParseClaimBody("").ok());
  EXPECT_TRUE(ParseClaimBody("{}").ok());
  EXPECT_TRUE(ParseClaimBody(R"({"amount_cents":1})").Is(Error::kUnknownField));
}

TEST(HttpErrorsTest, EachClassGetsItsStatusAndTheCodeIsSentVerbatim) {
  EXPECT_EQ(ErrorResponse({Error::kSoldOut, "m"}).status, 409);
  EXPECT_EQ(ErrorResponse({Error::kExpired, "m"}).status, 410);
  EXPECT_EQ(ErrorResponse({Error::kInvalidAmount, "m"}).status, 400);
  EXPECT_EQ(ErrorResponse({Error::kUnauthenticated, "m"}).status, 401);
  EXPECT_EQ(ErrorResponse({Error::kForbidden, "m"}).status, 403);
  EXPECT_EQ(ErrorResponse({Error::kPacketNotFound, "m"}).status, 404);
  EXPECT_EQ(ErrorResponse({Error::kOverloaded, "m"}).status, 503);
  EXPECT_EQ(ErrorResponse(Internal("m")).status, 500);
  // A payment of the wrong amount is a conflict; a B2C total that is not the subsidy's is a bad
  // request. Both are "amount_mismatch" on the wire.
  EXPECT_EQ(ErrorResponse({Error::kAmountMismatch, "m"}).status, 409);
  EXPECT_EQ(ErrorResponse({Error::kSubsidyAmountMismatch, "m"}).status, 400);
  HttpResponse r = ErrorResponse({Error::kSoldOut, "all gone"});
  const json body = json::parse(r.body);
  EXPECT_EQ(body["error"]["code"], "sold_out");
  EXPECT_EQ(body["error"]["message"], "all gone");
}

TEST(RoutesTest, PathsFindTheirRoutesAndMethodsAreChecked) {
  EXPECT_EQ(MatchRoute("POST", "/v1/packets/12/claims").route, Route::kClaim);
  EXPECT_EQ(MatchRoute("GET", "/v1/packets/12/claims").route, Route::kListClaims);
  RouteMatch m = MatchRoute("GET", "/v1/packets/12");
  EXPECT_EQ(m.route, Route::kGetPacket);
  EXPECT_EQ(m.id, "12");
  EXPECT_TRUE(m.method_allowed);
  EXPECT_EQ(MatchRoute("GET", "/v1/rain/r1/grab").route, Route::kGrab);
  EXPECT_FALSE(MatchRoute("GET", "/v1/rain/r1/grab").method_allowed);
  EXPECT_EQ(MatchRoute("GET", "/v2/packets").route, Route::kNone);
  for (const char* other_spelling : {"//v1/packets/12", "/v1//packets/12", "/v1/packets/12/",
                                     "v1/packets/12", "/healthz/", "/"}) {
    EXPECT_EQ(MatchRoute("GET", other_spelling).route, Route::kNone) << other_spelling;
  }
  EXPECT_EQ(MatchRoute("GET", "/a/b/c/d/e/f/g/h/i/j").route, Route::kNone);
}

// Who may call a route is the route table's: health and metrics are public, the payment callback
// is checked by its signature, the admin routes want an admin token and carry no rate-limit name,
// every other route a user token.
TEST(RoutesTest, EachRouteSaysWhoMayCallIt) {
  for (int i = 0; i < kRouteCount; ++i) {
    const auto route = static_cast<Route>(i);
    const RouteAccess access = AccessOf(route);
    if (access == RouteAccess::kAdmin || access == RouteAccess::kPublic ||
        access == RouteAccess::kNone) {
      EXPECT_TRUE(LimitName(route).empty()) << i;  // No limit rule may name them.
    } else {
      EXPECT_FALSE(LimitName(route).empty()) << i;
    }
  }
  EXPECT_EQ(AccessOf(MatchRoute("GET", "/healthz").route), RouteAccess::kPublic);
  EXPECT_EQ(AccessOf(MatchRoute("GET", "/metrics").route), RouteAccess::kPublic);
  EXPECT_EQ(AccessOf(MatchRoute("POST", "/v1/payments/callback").route), RouteAccess::kSignature);
  EXPECT_EQ(AccessOf(MatchRoute("POST", "/v1/packets/3/claims").route), RouteAccess::kUser);
  EXPECT_EQ(AccessOf(MatchRoute("PUT", "/admin/degrade").route), RouteAccess::kAdmin);
  EXPECT_EQ(AccessOf(MatchRoute("GET", "/admin/recon").route), RouteAccess::kAdmin);
  EXPECT_EQ(AccessOf(MatchRoute("GET", "/nowhere").route), RouteAccess::kNone);
}

// Labels come from the route table alone: clients choosing paths and methods cannot grow the
// set of label values.
TEST(RoutesTest, MetricsLabelsAreBoundedWhateverClientsSend) {
  std::set<std::string> labels;
  for (const char* method : {"GET", "POST", "PUT", "BREW", "X-ANY", ""}) {
    for (const char* path : {"/healthz", "/v1/packets", "/v1/packets/1", "/v1/packets/999/claims",
                             "/nope/nope", "/v1/rain/x/grab", "/admin/recon", "/metrics"}) {
      labels.insert(std::string(RouteLabel(MatchRoute(method, path))));
    }
  }
  EXPECT_LE(labels.size(), static_cast<size_t>(kRouteCount * 2));
  EXPECT_TRUE(labels.count("POST /v1/packets/{id}/claims"));
  EXPECT_TRUE(labels.count("unmatched"));
  for (const std::string& l : labels) EXPECT_EQ(l.find("BREW"), std::string::npos) << l;
}

TEST(JsonMappingTest, RecordsRenderAsTheApiDocumentsThem) {
  ledger::PacketRecord p;
  p.packet_id = 3;
  p.sender_id = 9;
  p.state = ledger::PacketState::kActive;
  p.total_cents = 500;
  p.count = 5;
  p.claimed_count = 2;
  p.claimed_cents = 180;
  p.pay_order_no = "PAY3";
  p.expires_at_ms = 1'700'000'000'123;
  const json detail = PacketDetailJson(p);
  EXPECT_EQ(detail["status"], "active");
  EXPECT_EQ(detail["remaining_cents"], 320);
  EXPECT_EQ(detail["remaining_count"], 3);
  EXPECT_EQ(detail["expires_at"], "2023-11-14T22:13:20.123Z");
  EXPECT_EQ(PacketJson(p)["pay_order_no"], "PAY3");
  EXPECT_FALSE(PacketJson(p).contains("subsidy_id"));
}

}  // namespace
}  // namespace rp::gateway
