#include "simulator/demo_flow.h"

#include <httplib.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <nlohmann/json.hpp>
#include <thread>
#include <vector>

#include "common/api/api_client.h"

namespace rp::sim {
namespace {

using nlohmann::json;

using Reply = api::Reply;

// The API client with the demo's credentials and calls spelled as the demo reads them.
class Api {
 public:
  explicit Api(const DemoOptions& o)
      : o_(o), client_(o.host, o.port, {o.auth_secret, o.payment_secret, 600}) {}
  const DemoOptions& options() const { return o_; }
  Reply Call(const std::string& method, const std::string& path, int64_t user,
             const std::string& body = "") {
    return client_.Send(api::WithToken(client_.credentials(), method, path, user, body));
  }
  Reply Admin(const std::string& method, const std::string& path) { return Call(method, path, 0); }
  Reply Send(int64_t user, const api::SendBody& body) { return client_.SendPacket(user, body); }
  Reply Pay(const std::string& pay_order_no, int64_t amount) {
    return client_.Pay(pay_order_no, "paid", amount);
  }

 private:
  const DemoOptions& o_;
  api::Client client_;
};

struct PacketPlan {
  const char* order_no;
  int64_t sender, total_cents, count;
  const char* split;
  int claimers;  // How many users try to claim it.
  int64_t id = 0;
};

bool g_ok = true;

// Polls a packet until its status is one of `want` or max_s pass (a demo waits on wall time).
std::string WaitForStatus(Api& api, int64_t packet_id, int64_t user,
                          const std::vector<std::string>& want, int max_s) {
  std::string status;
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(max_s);
  while (std::chrono::steady_clock::now() < deadline) {
    status =
        api.Call("GET", "/v1/packets/" + std::to_string(packet_id), user).body.value("status", "");
    if (std::find(want.begin(), want.end(), status) != want.end()) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  return status;
}

void Check(bool cond, const std::string& what) {
  std::printf("  %s %s\n", cond ? "ok  " : "FAIL", what.c_str());
  g_ok = g_ok && cond;
}

void SendAndPay(Api& api, PacketPlan& p) {
  api::SendBody body;
  body.order_no = p.order_no;
  body.total_cents = p.total_cents;
  body.count = p.count;
  body.split = p.split;
  body.video_id = "spring-2027";
  body.greeting = "新年快乐";
  Reply sent = api.Send(p.sender, body);
  if (sent.status != 201) {
    Check(false, "send " + std::string(p.order_no) + " -> HTTP " + std::to_string(sent.status));
    return;
  }
  p.id = sent.body["packet_id"];
  std::printf(
      "send   packet %lld: %lld cents in %lld %s shares from user %lld -> %s, pay order %s\n",
      (long long)p.id, (long long)p.total_cents, (long long)p.count, p.split, (long long)p.sender,
      sent.body["status"].get<std::string>().c_str(),
      sent.body["pay_order_no"].get<std::string>().c_str());
  if (!api.options().mocks_url.empty()) {
    const std::string status = WaitForStatus(api, p.id, p.sender, {"active"}, 10);
    std::printf("pay    %s: checkout at the payment service, its signed callback -> %s\n",
                sent.body["pay_order_no"].get<std::string>().c_str(), status.c_str());
    Check(status == "active", "packet is active after payment");
    return;
  }
  Reply paid = api.Pay(sent.body["pay_order_no"], p.total_cents);
  std::printf("pay    %s: signed callback, %lld cents -> %s\n",
              sent.body["pay_order_no"].get<std::string>().c_str(), (long long)p.total_cents,
              paid.status == 200 ? paid.body["status"].get<std::string>().c_str() : "FAILED");
  Check(paid.status == 200 && paid.body["status"] == "active", "packet is active after payment");
}

// `claimers` users claim at once, each on its own connection.
void Storm(const DemoOptions& o, const PacketPlan& p, int64_t first_user) {
  std::atomic<int> won{0}, sold_out{0}, other{0};
  std::atomic<int64_t> cents{0};
  std::atomic<int> ready{0};
  std::vector<std::thread> threads;
  auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < p.claimers; ++i) {
    threads.emplace_back([&, i] {
      Api api(o);
      ++ready;
      while (ready.load() < p.claimers) std::this_thread::yield();
      Reply r = api.Call("POST", "/v1/packets/" + std::to_string(p.id) + "/claims", first_user + i);
      if (r.status == 201) {
        ++won;
        cents += r.body["amount_cents"].get<int64_t>();
      } else if (r.status == 409 && r.body["error"]["code"] == "sold_out") {
        ++sold_out;
      } else {
        ++other;
      }
    });
  }
  for (auto& t : threads) t.join();
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() -
                                                                  start)
                .count();
  std::printf(
      "claim  %d concurrent claimers on packet %lld (%lld shares): %d won, %d sold out, "
      "%d other, in %lld ms\n",
      p.claimers, (long long)p.id, (long long)p.count, won.load(), sold_out.load(), other.load(),
      (long long)ms);
  const int expected = static_cast<int>(std::min<int64_t>(p.claimers, p.count));
  Check(won.load() == expected, "exactly " + std::to_string(expected) + " winners");
  Check(other.load() == 0, "no errors besides sold_out");
  if (p.claimers >= p.count) {
    Check(cents.load() == p.total_cents,
          "winners' shares sum to the total: " + std::to_string(cents.load()));
  }
}

// Prints the packet's final state and checks its money against its claims list.
void Report(Api& api, const PacketPlan& p) {
  Reply r = api.Call("GET", "/v1/packets/" + std::to_string(p.id), p.sender);
  int64_t listed = 0, listed_count = 0;
  std::string cursor;
  json best;
  for (int page = 0; page < 1000; ++page) {
    Reply c = api.Call("GET",
                       "/v1/packets/" + std::to_string(p.id) + "/claims?limit=100" +
                           (cursor.empty() ? "" : "&cursor=" + cursor),
                       p.sender);
    if (c.status != 200) break;
    for (auto& claim : c.body["claims"]) {
      listed += claim["amount_cents"].get<int64_t>();
      ++listed_count;
      if (claim.value("best_luck", false)) best = claim;
    }
    if (c.body["next_cursor"].is_null()) break;
    cursor = c.body["next_cursor"];
  }
  const json& b = r.body;
  std::printf(
      "final  packet %lld: %-8s total %lld = claimed %lld (%lld claims) + remaining %lld",
      (long long)p.id, b["status"].get<std::string>().c_str(),
      (long long)b["total_cents"].get<int64_t>(), (long long)b["claimed_cents"].get<int64_t>(),
      (long long)b["claimed_count"].get<int64_t>(), (long long)b["remaining_cents"].get<int64_t>());
  if (!best.is_null()) {
    std::printf("; best luck: user %lld with %lld cents", (long long)best["user_id"].get<int64_t>(),
                (long long)best["amount_cents"].get<int64_t>());
  }
  std::printf("\n");
  Check(b["total_cents"].get<int64_t>() ==
            b["claimed_cents"].get<int64_t>() + b["remaining_cents"].get<int64_t>(),
        "total = claimed + remaining");
  Check(listed == b["claimed_cents"].get<int64_t>() &&
            listed_count == b["claimed_count"].get<int64_t>(),
        "the claims list sums to claimed_cents");
}

// B2C: a rain round at the reward service, grabs, the merged subsidy list, a packet funded by a
// subsidy, a storm of claimers, and a second use of the same subsidy refused.
void RunB2c(const DemoOptions& o, Api& api) {
  std::printf("== B2C: red-packet rain\n");
  httplib::Client mock(o.mocks_url);
  auto round = mock.Post("/admin/rounds",
                         R"({"round":"demo-rain","budget_cents":20000,)"
                         R"("min_cents":100,"max_cents":800,"expires_in_s":600})",
                         "application/json");
  Check(round && (round->status == 201 || round->status == 409), "rain round demo-rain created");
  int64_t granted = 0;
  for (int64_t user = 3001; user <= 3040; ++user) {
    Reply g = api.Call("POST", "/v1/rain/demo-rain/grab", user);
    granted += g.status == 201 ? g.body.value("amount_cents", int64_t{0}) : 0;
  }
  Reply again = api.Call("POST", "/v1/rain/demo-rain/grab", 3001);
  std::printf(
      "grab   40 users grabbed %lld cents of a 20000-cent budget; a second grab by user 3001 -> "
      "HTTP %d (the same subsidy)\n",
      (long long)granted, again.status);
  Check(granted > 0 && granted <= 20000 && again.status == 200,
        "one subsidy per user, budget kept");
  Reply list = api.Call("GET", "/v1/subsidies", 3001);
  Check(list.status == 200 && list.body["subsidies"].size() == 1, "user 3001 sees one subsidy");
  const json sub = list.body["subsidies"][0];
  api::SendBody body;
  body.order_no = "demo-b2c";
  body.kind = "b2c";
  body.total_cents = sub.value("amount_cents", int64_t{0});
  body.count = 5;
  body.video_id = "rain";
  body.subsidy_token = sub.value("token", "");
  Reply sent = api.Send(3001, body);
  std::printf("send   b2c packet from subsidy %s (%lld cents) -> HTTP %d %s\n",
              sub.value("subsidy_id", "").c_str(), (long long)sub.value("amount_cents", int64_t{0}),
              sent.status, sent.body.value("status", "").c_str());
  Check(sent.status == 201 && sent.body["status"] == "active",
        "the subsidy funds an active packet");
  body.order_no = "demo-b2c-again";
  Reply twice = api.Send(3001, body);
  Check(twice.status == 409,
        "the same subsidy cannot fund a second packet (HTTP " + std::to_string(twice.status) + ")");
  if (sent.status != 201) return;
  PacketPlan p{"demo-b2c", 3001, sub["amount_cents"], 5, "random", 20};
  p.id = sent.body["packet_id"];
  Storm(o, p, 40000);
  Report(api, p);
}

// Polls GET /admin/recon until nothing is in flight, then prints the per-flow report.
void AwaitReconciliation(Api& api) {
  std::printf("== reconciliation (ledger vs payment, wallet and reward records)\n");
  Reply r;
  for (int i = 0; i < 150; ++i) {
    r = api.Admin("GET", "/admin/recon");
    if (r.status == 200 && r.body["c2c"]["transfer_pending_cents"] == 0 &&
        r.body["b2c"]["transfer_pending_cents"] == 0 &&
        r.body["c2c"]["refund_pending_cents"] == 0) {
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(200));  // Async transfers finishing.
  }
  if (r.status != 200) return Check(false, "GET /admin/recon answered " + std::to_string(r.status));
  for (const char* flow : {"c2c", "b2c"}) {
    const json& f = r.body[flow];
    std::printf(
        "recon  %s: funded %lld (service %lld) -> claimed %lld, transferred %lld "
        "(pending %lld); refunds ordered %lld, paid %lld\n",
        flow, (long long)f["paid_cents_ledger"].get<int64_t>(),
        (long long)f["paid_cents_service"].get<int64_t>(),
        (long long)f["claimed_cents"].get<int64_t>(),
        (long long)f["transferred_cents_wallet"].get<int64_t>(),
        (long long)f["transfer_pending_cents"].get<int64_t>(),
        (long long)f["refund_ordered_cents"].get<int64_t>(),
        (long long)f["refunded_cents_wallet"].get<int64_t>());
  }
  const json& i = r.body["b2c_issuance"];
  std::printf("recon  b2c issuance: issued %lld, persisted %lld, used %lld\n",
              (long long)i["issued_cents_service"].get<int64_t>(),
              (long long)i["persisted_cents_ledger"].get<int64_t>(),
              (long long)i["used_cents_ledger"].get<int64_t>());
  Check(r.body["clean"] == true,
        "reconciliation clean: " + std::to_string(r.body["discrepancy_count"].get<int64_t>()) +
            " discrepancies, drift " + std::to_string(r.body["drift_cents"].get<int64_t>()) +
            " cents");
}

}  // namespace

int RunDemoFlow(const DemoOptions& o) {
  Api api(o);
  std::printf("== Redpacket Lab core flow against http://%s:%d\n", o.host.c_str(), o.port);
  std::vector<PacketPlan> plans = {
      {"demo-hot", 1001, 5000, 50, "random", o.claimers},
      {"demo-even", 1002, 10000, 100, "even", o.claimers},
      {"demo-expiring", 1003, 3000, 10, "random", 3},
  };
  for (PacketPlan& p : plans) SendAndPay(api, p);
  if (!g_ok) return 1;
  int64_t user = 20000;
  for (PacketPlan& p : plans) {
    Storm(o, p, user);
    user += 1000;
  }
  Reply replay = api.Call("POST", "/v1/packets/" + std::to_string(plans[2].id) + "/claims", 22000);
  std::printf("replay user 22000 claims packet %lld again -> HTTP %d, repeat=%s\n",
              (long long)plans[2].id, replay.status,
              replay.body.value("repeat", false) ? "true" : "false");
  Check(replay.status == 200 && replay.body.value("repeat", false),
        "a replayed claim returns the original");

  std::printf("wait   for packet %lld to expire (short TTL; the expiry scanner refunds the rest)\n",
              (long long)plans[2].id);
  const bool wallet = !o.mocks_url.empty();
  const std::string status =
      WaitForStatus(api, plans[2].id, 1003, {wallet ? "refunded" : "expired"}, o.expiry_wait_s_max);
  Check(status == (wallet ? "refunded" : "expired"),
        "packet " + std::to_string(plans[2].id) + " " + status +
            (wallet ? " (remainder paid back to the payer by the wallet)" : ""));
  Reply late = api.Call("POST", "/v1/packets/" + std::to_string(plans[2].id) + "/claims", 99999);
  Check(late.status == 410, "a claim after expiry gets 410 expired");
  for (const PacketPlan& p : plans) Report(api, p);
  if (wallet) {
    RunB2c(o, api);
    AwaitReconciliation(api);
  }
  std::printf("== demo flow %s\n", g_ok ? "PASSED" : "FAILED");
  return g_ok ? 0 : 1;
}

}  // namespace rp::sim
