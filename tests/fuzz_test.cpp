// Thousands of random and mutated requests at every route: each gets a 4xx JSON error (or a
// 2xx when the mutation happens to be valid), never a 5xx, a crash or a hang; nothing invalid
// is written; the server stays up and the ledger conserves money.
#include <gtest/gtest.h>

#include <random>

#include "common/crypto.h"
#include "tests/support/harness.h"

namespace rp::testing {
namespace {

using nlohmann::json;

class Fuzzer {
 public:
  explicit Fuzzer(uint64_t seed) : rng_(seed) {}
  int Pick(int n) { return std::uniform_int_distribution<int>(0, n - 1)(rng_); }
  std::string RandomBytes(size_t max_len) {
    std::string s(static_cast<size_t>(Pick(static_cast<int>(max_len) + 1)), '\0');
    for (char& c : s) c = static_cast<char>(Pick(256));
    return s;
  }
  std::string Soup() {
    static const std::vector<std::string> kTokens = {"{",
                                                     "}",
                                                     "[",
                                                     "]",
                                                     ":",
                                                     ",",
                                                     "\"",
                                                     "null",
                                                     "true",
                                                     "-1",
                                                     "1e999",
                                                     "0.5",
                                                     "\"order_no\"",
                                                     "\"total_cents\"",
                                                     "\"count\"",
                                                     "\\u0000",
                                                     "\xff",
                                                     " ",
                                                     "99999999999999999999"};
    std::string s;
    for (int i = Pick(40); i > 0; --i)
      s += kTokens[static_cast<size_t>(Pick(static_cast<int>(kTokens.size())))];
    return s;
  }
  // A value of a wrong or hostile kind.
  json Hostile() {
    switch (Pick(12)) {
      case 0:
        return nullptr;
      case 1:
        return true;
      case 2:
        return "a string";
      case 3:
        return 0.5;
      case 4:
        return json::array({1, 2});
      case 5:
        return json::object({{"x", 1}});
      case 6:
        return -1;
      case 7:
        return 0;
      case 8:
        return std::numeric_limits<int64_t>::min();
      case 9:
        return 1e300;
      case 10:
        return std::string(5000, 'x');
      default:
        return std::numeric_limits<uint64_t>::max();
    }
  }
  std::mt19937_64& rng() { return rng_; }

 private:
  std::mt19937_64 rng_;
};

json ValidSend(const std::string& order_no) {
  return {{"order_no", order_no}, {"kind", "c2c"},      {"total_cents", 1000},
          {"count", 10},          {"split", "random"},  {"audience", "public"},
          {"video_id", "v1"},     {"greeting", "hello"}};
}

// A mutation of a valid send body: one to three damaging edits.
std::string MutateSend(Fuzzer& f, const std::string& order_no) {
  json b = ValidSend(order_no);
  static const std::vector<std::string> kFields = {
      "order_no", "kind", "total_cents", "count", "split", "audience", "video_id", "greeting"};
  for (int edits = 1 + f.Pick(3); edits > 0; --edits) {
    const std::string field =
        kFields[static_cast<size_t>(f.Pick(static_cast<int>(kFields.size())))];
    switch (f.Pick(9)) {
      case 0:
        b.erase(field);
        break;
      case 1:
        b["unknown_" + field] = 1;
        break;
      case 2:
        b[field] = f.Hostile();
        break;
      case 3:
        b["count"] = 10001;
        break;
      case 4:
        b["total_cents"] = 10 * 20001;
        break;
      case 5:
        b["count"] = 2000;
        break;  // count > total
      case 6:
        b["order_no"] = std::string(65, 'o');
        break;
      case 7:
        b["video_id"] = "bad id!";
        break;
      default:
        b["greeting"] = std::string(101, 'g');
        break;
    }
  }
  std::string body = b.dump();
  switch (f.Pick(6)) {
    case 0:
      return body.substr(0, static_cast<size_t>(f.Pick(static_cast<int>(body.size()))));
    case 1:
      return body + "garbage";
    case 2:
      return "[" + body + "]";
    case 3:
      return std::string(300, '[') + std::string(300, ']');
    default:
      return body;
  }
}

void ExpectCleanAnswer(const Reply& r, const std::string& what) {
  ASSERT_NE(r.status, 0) << "no answer to " << what;
  ASSERT_LT(r.status, 500) << what << " -> " << r.raw;
  if (r.status >= 400) {
    ASSERT_TRUE(r.body.is_object()) << what << " -> " << r.raw;
    ASSERT_TRUE(r.body["error"]["code"].is_string()) << r.raw;
    ASSERT_FALSE(r.body["error"]["code"].get<std::string>().empty());
    ASSERT_TRUE(r.body["error"]["message"].is_string()) << r.raw;
  }
}

class FuzzTest : public ::testing::Test {
 protected:
  void SetUp() override {
    server_ = std::make_unique<InProcessServer>(TestConfig(dir_));
    ASSERT_TRUE(server_->app);
  }
  void TearDown() override {
    if (server_ && server_->app) server_->app->Stop();
    EXPECT_TRUE(LedgerConserves(dir_.File("ledger.db")));
  }
  TempDir dir_;
  std::unique_ptr<InProcessServer> server_;
};

TEST_F(FuzzTest, RandomAndMutatedRequestsNeverBreakTheServer) {
  Fuzzer f(20261124);
  Client c(server_->port);
  Reply seed = c.SendPacket(1, "seed", 1000, 10);
  ASSERT_EQ(c.Pay(seed.body["pay_order_no"], "paid", 1000).status, 200);
  int sends_created = 0, claims_won = 0, requests = 0;
  const std::string token = "Bearer " + TokenFor(5);
  for (int i = 0; i < 4000; ++i, ++requests) {
    std::string body;
    Reply r;
    switch (i % 8) {
      case 0:
        body = f.RandomBytes(300);
        r = c.Send("POST", "/v1/packets", body, {{"Authorization", token}});
        break;
      case 1:
        body = f.Soup();
        r = c.Send("POST", "/v1/packets", body, {{"Authorization", token}});
        break;
      case 2:
      case 3:
        body = MutateSend(f, "fz-" + std::to_string(i));
        r = c.Send("POST", "/v1/packets", body, {{"Authorization", token}});
        sends_created += r.status == 201;
        break;
      case 4: {  // Signed callbacks with damaged bodies, and unsigned ones.
        json cb = {{"pay_order_no", f.Pick(2) ? "PAY1" : "PAY" + std::to_string(f.Pick(1000000))},
                   {"status", f.Pick(2) ? "paid" : "refunded"},
                   {"amount_cents", f.Pick(2) ? json(1000) : f.Hostile()}};
        if (f.Pick(3) == 0) cb.erase("status");
        body = f.Pick(4) == 0 ? f.Soup() : cb.dump();
        std::string sig =
            f.Pick(5) == 0 ? std::string(64, 'a') : crypto::HmacSha256Hex(kPaymentSecret, body);
        r = c.Send("POST", "/v1/payments/callback", body, {{"X-RP-Signature", sig}});
        break;
      }
      case 5: {  // Claims with junk bodies on the real packet and on bad ids.
        static const std::vector<std::string> kIds = {
            "1",    "0", "-1", "abc", "1e3", "99999999999999999999", "", std::string(300, '9'),
            "1%00", "2"};
        const std::string id = kIds[static_cast<size_t>(f.Pick(static_cast<int>(kIds.size())))];
        body = f.Pick(2) ? "" : f.Soup();
        r = c.Send("POST", "/v1/packets/" + id + "/claims", body,
                   {{"Authorization", "Bearer " + TokenFor(1000 + i)}});
        claims_won += r.status == 201;
        break;
      }
      case 6: {  // Wrong methods and reads with bad parameters.
        static const std::vector<std::string> kMethods = {"PUT", "DELETE", "PATCH", "GET", "POST"};
        static const std::vector<std::string> kPaths = {"/v1/packets",
                                                        "/v1/packets/1",
                                                        "/v1/packets/1/claims?limit=0",
                                                        "/v1/packets/1/claims?limit=abc",
                                                        "/v1/packets/1/claims?cursor=-5",
                                                        "/v1/payments/callback",
                                                        "/healthz",
                                                        "/nope/x/y"};
        const std::string& method = kMethods[static_cast<size_t>(f.Pick(5))];
        const std::string& path = kPaths[static_cast<size_t>(f.Pick(8))];
        r = c.Send(method, path, f.Pick(2) ? "" : f.Soup(), {{"Authorization", token}});
        // A POST to a claims path with a valid (empty) body is a real claim by user 5.
        claims_won += r.status == 201 && path.find("/claims") != std::string::npos;
        body = method + " " + path;
        break;
      }
      default:  // Garbage credentials.
        r = c.Send("GET", "/v1/packets/1", "", {{"Authorization", "Bearer " + f.RandomBytes(80)}});
        break;
    }
    ExpectCleanAnswer(
        r, "request " + std::to_string(i) + " body " +
               json(body).dump(-1, ' ', false, json::error_handler_t::replace).substr(0, 200));
    if (HasFatalFailure()) return;
  }
  // A body over the limit, on each POST route, on a fresh connection each (413 closes it).
  for (const std::string path : {"/v1/packets", "/v1/packets/1/claims", "/v1/payments/callback"}) {
    Client fresh(server_->port);
    Reply r = fresh.Send("POST", path, std::string(100 * 1024, 'x'), {{"Authorization", token}});
    EXPECT_EQ(r.status, 413) << path;
  }
  Client after(server_->port);
  EXPECT_EQ(after.Send("GET", "/healthz", "", {}).status, 200);
  // Exactly the packets the valid sends created exist (ids 1..N+1), nothing more.
  const int expected_packets = 1 + sends_created;
  EXPECT_EQ(after.Get("/v1/packets/" + std::to_string(expected_packets), 1).status, 200);
  EXPECT_EQ(after.Get("/v1/packets/" + std::to_string(expected_packets + 1), 1).status, 404);
  Reply p = after.Get("/v1/packets/1", 1);
  EXPECT_EQ(p.body["claimed_count"], std::min(claims_won, 10));
  RecordProperty("requests", requests);
}

}  // namespace
}  // namespace rp::testing
