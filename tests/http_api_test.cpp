// The HTTP API end to end over loopback against an in-process rp-server.
#include <gtest/gtest.h>

#include <atomic>
#include <functional>
#include <map>
#include <set>
#include <thread>

#include "common/crypto.h"
#include "tests/support/harness.h"

namespace rp::testing {
namespace {

class HttpApiTest : public ::testing::Test {
 protected:
  void SetUp() override {
    server_ = std::make_unique<InProcessServer>(TestConfig(dir_));
    ASSERT_TRUE(server_->app);
    client_ = std::make_unique<Client>(server_->port);
  }
  void TearDown() override {
    if (server_ && server_->app) server_->app->Stop();
    EXPECT_TRUE(LedgerConserves(dir_.File("ledger.db")));
  }

  // Sends and pays a packet; returns its id.

  TempDir dir_;
  std::unique_ptr<InProcessServer> server_;
  std::unique_ptr<Client> client_;
};

TEST_F(HttpApiTest, SixtyFourConcurrentClaimersOnFiftyShares) {
  const int64_t packet = PaidPacket(*client_, "hot", 5000, 50);
  constexpr int kClaimers = 64;
  std::vector<Reply> replies(kClaimers);
  std::vector<std::thread> threads;
  std::atomic<int> ready{0};
  for (int i = 0; i < kClaimers; ++i) {
    threads.emplace_back([&, i] {
      Client c(server_->port);
      ++ready;
      while (ready.load() < kClaimers) std::this_thread::yield();  // Start together.
      replies[static_cast<size_t>(i)] = c.Claim(packet, 1000 + i);
    });
  }
  for (auto& t : threads) t.join();
  int64_t sum = 0;
  int winners = 0, sold_out = 0;
  std::set<int64_t> claim_ids;
  for (const Reply& r : replies) {
    if (r.status == 201) {
      ++winners;
      sum += r.body["amount_cents"].get<int64_t>();
      EXPECT_FALSE(r.body["repeat"].get<bool>());
      claim_ids.insert(r.body["claim_id"].get<int64_t>());
    } else {
      EXPECT_EQ(r.status, 409) << r.raw;
      EXPECT_EQ(r.body["error"]["code"], "sold_out");
      ++sold_out;
    }
  }
  EXPECT_EQ(winners, 50);
  EXPECT_EQ(sold_out, 14);
  EXPECT_EQ(sum, 5000);
  EXPECT_EQ(claim_ids.size(), 50u);
  // Replays return the same claim with repeat:true; losers stay losers.
  for (int i = 0; i < kClaimers; ++i) {
    Reply again = client_->Claim(packet, 1000 + i);
    const Reply& first = replies[static_cast<size_t>(i)];
    if (first.status == 201) {
      EXPECT_EQ(again.status, 200);
      EXPECT_TRUE(again.body["repeat"].get<bool>());
      EXPECT_EQ(again.body["claim_id"], first.body["claim_id"]);
      EXPECT_EQ(again.body["amount_cents"], first.body["amount_cents"]);
    } else {
      EXPECT_EQ(again.status, 409);
    }
  }
  Reply p = client_->Get("/v1/packets/" + std::to_string(packet), 1);
  EXPECT_EQ(p.body["status"], "finished");
  EXPECT_EQ(p.body["claimed_cents"], 5000);
  EXPECT_EQ(p.body["remaining_count"], 0);
}

TEST_F(HttpApiTest, ClaimsPageIsOrderedPagedAndFlagsBestLuckOnce) {
  const int64_t packet = PaidPacket(*client_, "page", 1000, 5);
  std::map<int64_t, int64_t> amounts;
  for (int u = 1; u <= 5; ++u) {
    Reply r = client_->Claim(packet, 100 + u);
    ASSERT_EQ(r.status, 201);
    amounts[100 + u] = r.body["amount_cents"];
  }
  std::string cursor;
  std::vector<nlohmann::json> all;
  int best = 0;
  for (int page = 0; page < 5; ++page) {
    Reply r = client_->Get("/v1/packets/" + std::to_string(packet) + "/claims?limit=2" +
                               (cursor.empty() ? "" : "&cursor=" + cursor),
                           1);
    ASSERT_EQ(r.status, 200) << r.raw;
    for (auto& c : r.body["claims"]) {
      all.push_back(c);
      best += c.value("best_luck", false) ? 1 : 0;
    }
    if (r.body["next_cursor"].is_null()) break;
    cursor = r.body["next_cursor"];
  }
  ASSERT_EQ(all.size(), 5u);
  for (size_t i = 0; i < all.size(); ++i) {
    EXPECT_EQ(all[i]["user_id"], 101 + static_cast<int64_t>(i));  // Claim order.
    EXPECT_EQ(all[i]["amount_cents"], amounts[all[i]["user_id"]]);
  }
  EXPECT_EQ(best, 1);
}

TEST_F(HttpApiTest, SendIsIdempotentPerSenderAndOrderNo) {
  Reply first = client_->SendPacket(7, "order-1", 1000, 10);
  ASSERT_EQ(first.status, 201);
  Reply replay = client_->SendPacket(7, "order-1", 1000, 10);
  EXPECT_EQ(replay.status, 200);
  EXPECT_EQ(replay.body["packet_id"], first.body["packet_id"]);
  Reply conflict = client_->SendPacket(7, "order-1", 1001, 10);
  EXPECT_EQ(conflict.status, 409);
  EXPECT_EQ(conflict.body["error"]["code"], "idempotency_conflict");
  Reply other_sender = client_->SendPacket(8, "order-1", 1000, 10);
  EXPECT_EQ(other_sender.status, 201);
  EXPECT_NE(other_sender.body["packet_id"], first.body["packet_id"]);
}

TEST_F(HttpApiTest, PaymentCallbackRules) {
  Reply sent = client_->SendPacket(7, "pay-rules", 1000, 10);
  const std::string pay = sent.body["pay_order_no"];
  const int64_t packet = sent.body["packet_id"];
  EXPECT_EQ(client_->Claim(packet, 9).body["error"]["code"], "not_claimable");
  // Forged signature.
  Reply forged =
      client_->Send("POST", "/v1/payments/callback",
                    R"({"pay_order_no":")" + pay + R"(","status":"paid","amount_cents":1000})",
                    {{"X-RP-Signature", std::string(64, 'a')}});
  EXPECT_EQ(forged.status, 401);
  Reply wrong_amount = client_->Pay(pay, "paid", 999);
  EXPECT_EQ(wrong_amount.status, 409);
  EXPECT_EQ(wrong_amount.body["error"]["code"], "amount_mismatch");
  EXPECT_EQ(client_->Get("/v1/packets/" + std::to_string(packet), 7).body["status"],
            "awaiting_payment");
  EXPECT_EQ(client_->Pay("PAY999999", "paid", 1000).status, 404);
  Reply paid = client_->Pay(pay, "paid", 1000);
  EXPECT_EQ(paid.status, 200);
  EXPECT_FALSE(paid.body["duplicate"].get<bool>());
  Reply dup = client_->Pay(pay, "paid", 1000);
  EXPECT_EQ(dup.status, 200);
  EXPECT_TRUE(dup.body["duplicate"].get<bool>());
  EXPECT_EQ(client_->Pay(pay, "failed", 1000).status, 409);  // Conflicting outcome.

  Reply failing = client_->SendPacket(7, "pay-fails", 500, 5);
  EXPECT_EQ(client_->Pay(failing.body["pay_order_no"], "failed", 500).body["status"], "closed");
  Reply late = client_->Pay(failing.body["pay_order_no"], "paid", 500);
  EXPECT_EQ(late.status, 409);
}

// The same money movement arriving many times at once (a client retrying over several
// connections, a payment callback racing the poller): one original, every other answer a replay
// of it, never a conflict or a 5xx. On PostgreSQL the duplicates really run concurrently in
// separate transactions.
TEST_F(HttpApiTest, ConcurrentDuplicatesAnswerTheOriginal) {
  constexpr int kCopies = 12;
  auto all_at_once = [&](const std::function<Reply(Client&)>& request) {
    std::vector<Reply> replies(kCopies);
    std::vector<std::thread> threads;
    std::atomic<int> ready{0};
    for (int i = 0; i < kCopies; ++i) {
      threads.emplace_back([&, i] {
        Client c(server_->port);
        ++ready;
        while (ready.load() < kCopies) std::this_thread::yield();
        replies[static_cast<size_t>(i)] = request(c);
      });
    }
    for (auto& t : threads) t.join();
    return replies;
  };
  auto originals = [](const std::vector<Reply>& replies, const char* id_key) {
    int created = 0;
    std::set<std::string> ids;
    for (const Reply& r : replies) {
      EXPECT_TRUE(r.status == 200 || r.status == 201) << r.status << " " << r.raw;
      created += r.status == 201;
      ids.insert(r.body.value(id_key, nlohmann::json()).dump());
    }
    EXPECT_EQ(ids.size(), 1u) << "replays answered different records";
    return created;
  };
  std::vector<Reply> sends =
      all_at_once([](Client& c) { return c.SendPacket(7, "dup-send", 1200, 12); });
  EXPECT_EQ(originals(sends, "packet_id"), 1);
  const std::string pay = sends[0].body["pay_order_no"];
  const int64_t packet = sends[0].body["packet_id"];
  std::vector<Reply> callbacks = all_at_once([&](Client& c) { return c.Pay(pay, "paid", 1200); });
  int fresh = 0;
  for (const Reply& r : callbacks) {
    EXPECT_EQ(r.status, 200) << r.raw;
    fresh += r.status == 200 && !r.body.value("duplicate", true);
  }
  EXPECT_EQ(fresh, 1);
  EXPECT_EQ(originals(all_at_once([&](Client& c) { return c.Claim(packet, 42); }), "claim_id"), 1);
}

TEST_F(HttpApiTest, AuthenticationIsRequiredAndChecked) {
  EXPECT_EQ(client_->Send("GET", "/v1/packets/1", "", {}).status, 401);
  EXPECT_EQ(client_->Send("GET", "/v1/packets/1", "", {{"Authorization", "Basic abc"}}).status,
            401);
  std::string forged = TokenFor(5);
  forged.back() = forged.back() == 'a' ? 'b' : 'a';
  EXPECT_EQ(
      client_->Send("GET", "/v1/packets/1", "", {{"Authorization", "Bearer " + forged}}).status,
      401);
  std::string expired = auth::MintToken(kAuthSecret, 5, std::time(nullptr) - 1);
  Reply r = client_->Send("GET", "/v1/packets/1", "", {{"Authorization", "Bearer " + expired}});
  EXPECT_EQ(r.status, 401);
  EXPECT_EQ(r.body["error"]["code"], "unauthenticated");
}

TEST_F(HttpApiTest, RoutingErrors) {
  Reply wrong_method = client_->Send("DELETE", "/v1/packets/1", "", {});
  EXPECT_EQ(wrong_method.status, 405);
  EXPECT_EQ(wrong_method.body["error"]["code"], "method_not_allowed");
  EXPECT_EQ(client_->Send("GET", "/nope", "", {}).status, 404);
  EXPECT_EQ(client_->Get("/v1/packets/abc", 1).status, 400);
  // One spelling per packet (a proxy hashes the text): other spellings name nothing.
  EXPECT_EQ(client_->Get("/v1/packets/01", 1).status, 400);
  EXPECT_EQ(client_->Get("//v1/packets/1", 1).status, 404);
  EXPECT_EQ(client_->Get("/v1//packets/1", 1).status, 404);
  EXPECT_EQ(client_->Get("/v1/packets/1/", 1).status, 404);
  EXPECT_EQ(client_->Get("/v1/packets/99999", 1).status, 404);
  EXPECT_EQ(client_->Claim(99999, 1).body["error"]["code"], "packet_not_found");
  Reply huge = client_->Post("/v1/packets", std::string(70 * 1024, 'x'), 1);
  EXPECT_EQ(huge.status, 413);
  Client fresh(server_->port);  // The 413 closed that connection; the server is still up.
  EXPECT_EQ(fresh.Send("GET", "/healthz", "", {}).status, 200);
}

TEST_F(HttpApiTest, BadSendBodiesGetTheirErrorCode) {
  const std::string ok =
      R"("order_no":"o","kind":"c2c","split":"random","audience":"public","video_id":"v")";
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"{", "invalid_json"},
      {"[1]", "invalid_json"},
      {"{" + ok + R"(,"total_cents":100})", "missing_field"},
      {"{" + ok + R"(,"total_cents":"100","count":1})", "invalid_type"},
      {"{" + ok + R"(,"total_cents":100.5,"count":1})", "invalid_type"},
      {"{" + ok + R"(,"total_cents":-5,"count":1})", "invalid_amount"},
      {"{" + ok + R"(,"total_cents":0,"count":1})", "invalid_amount"},
      {"{" + ok + R"(,"total_cents":99999999999999999999,"count":1})", "invalid_amount"},
      {"{" + ok + R"(,"total_cents":5,"count":10})", "invalid_amount"},
      {"{" + ok + R"(,"total_cents":20001,"count":1})", "invalid_amount"},
      {"{" + ok + R"(,"total_cents":100,"count":10001})", "invalid_count"},
      {"{" + ok + R"(,"total_cents":100,"count":0})", "invalid_count"},
      {"{" + ok + R"(,"total_cents":100,"count":1,"user_id":5})", "unknown_field"},
      {"{" + ok + R"(,"total_cents":100,"count":1,"greeting":")" + std::string(101, 'g') + "\"}",
       "invalid_greeting"},
      {R"({"order_no":"bad order","kind":"c2c","total_cents":100,"count":1,"split":"random","audience":"public","video_id":"v"})",
       "invalid_order_no"},
      {R"({"order_no":"o","kind":"b2x","total_cents":100,"count":1,"split":"random","audience":"public","video_id":"v"})",
       "unsupported_kind"},
      {R"({"order_no":"o","kind":"c2c","total_cents":100,"count":3,"split":"even","audience":"public","video_id":"v"})",
       "invalid_amount"},
      {R"({"order_no":"o","kind":"c2c","total_cents":100,"count":1,"split":"random","audience":"all","video_id":"v"})",
       "invalid_audience"},
  };
  for (const auto& [body, code] : cases) {
    Reply r = client_->Post("/v1/packets", body, 1);
    EXPECT_EQ(r.status, 400) << body << " -> " << r.raw;
    EXPECT_EQ(r.body["error"]["code"], code) << body;
  }
  // Nothing was written: no packet exists, and the next valid send gets packet id 1.
  EXPECT_EQ(client_->Get("/v1/packets/1", 1).status, 404);
  EXPECT_EQ(client_->SendPacket(1, "first", 100, 1).body["packet_id"], 1);
}

// since is seconds, and the reconciliation works in milliseconds: since * 1000 overflowed int64
// for a huge since. Refused as bad input, saying the range.
TEST_F(HttpApiTest, AdminReconRefusesASinceBeyondTheYear9999) {
  const std::string admin = "Bearer " + auth::MintAdminToken(kAuthSecret, std::time(nullptr) + 600);
  for (const char* since :
       {"999999999999999999", "9223372036854775", "253402300800", "0", "-1", "x", ""}) {
    Reply r = client_->Send("GET", std::string("/admin/recon?since=") + since, "",
                            {{"Authorization", admin}});
    EXPECT_EQ(r.status, 400) << since << ": " << r.raw;
    EXPECT_EQ(r.body["error"]["code"], "invalid_since") << since;
    EXPECT_NE(r.raw.find("1..253402300799"), std::string::npos) << r.raw;
  }
}

TEST_F(HttpApiTest, MetricsExposeRoutesAndClaims) {
  const int64_t packet = PaidPacket(*client_, "m", 100, 1);
  client_->Claim(packet, 2);
  client_->Claim(packet, 3);
  Reply r = client_->Send("GET", "/metrics", "", {});
  ASSERT_EQ(r.status, 200);
  EXPECT_NE(
      r.raw.find(R"(rp_http_requests_total{route="POST /v1/packets/{id}/claims",status="201"} 1)"),
      std::string::npos)
      << r.raw;
  EXPECT_NE(r.raw.find(R"(rp_claims_total{result="sold_out",scheme="db_lock"} 1)"),
            std::string::npos);
  EXPECT_NE(r.raw.find("rp_lock_wait_seconds_bucket"), std::string::npos);
  EXPECT_NE(r.raw.find("rp_db_busy_retries_total"), std::string::npos);
}

}  // namespace
}  // namespace rp::testing
