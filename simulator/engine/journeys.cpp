#include <utility>  // Before Boost: asio/awaitable.hpp needs it under g++ 12 / C++20.

#include "simulator/engine/journeys.h"

#include <ctime>
#include <set>

#include "common/clock.h"
#include "common/crypto.h"
#include "common/http_load.h"

namespace rp::sim {
namespace {
using nlohmann::json;
// Waiting for the payment service: polls back off 50, 100, 200, 400, 800, 1000, 1000, ... ms, as
// an app would, so waiting journeys do not flood the server; after 20 polls (~15 s) the journey
// gives up (the server's own poll of the pay order still settles the packet).
constexpr int kPaymentPollsMax = 20;
constexpr int64_t kPollFirstMs = 50;
constexpr int64_t kPollMaxMs = 1000;
}  // namespace

struct JourneyRunner::Journey {
  std::function<void()> done;
  std::string kind;
  int64_t packet_id = 0;
  int64_t sender = 0;
  int64_t count = 0;
  int64_t claimers = 0;
  double repeat_rate = 0;
  int outstanding = 0;  // Claims in flight.
};

JourneyRunner::JourneyRunner(boost::asio::io_context& io, const Scenario& scenario,
                             const Target& target, HttpPool* pool, RunStats* stats,
                             Observed* observed, int64_t start_ns)
    : io_(io),
      scenario_(scenario),
      target_(target),
      pool_(pool),
      stats_(stats),
      observed_(observed),
      start_ns_(start_ns),
      rng_(scenario.seed ^ 0x9e3779b97f4a7c15ULL) {}

int64_t JourneyRunner::Draw(const IntRange& r) {
  return std::uniform_int_distribution<int64_t>(r.min, r.max)(rng_);
}

int64_t JourneyRunner::RandomUser() {
  return scenario_.first_user_id +
         std::uniform_int_distribution<int64_t>(0, scenario_.users - 1)(rng_);
}

void JourneyRunner::Call(const char* op, const char* method, const std::string& path, int64_t user,
                         std::string body, int64_t intended_ns, Next next) {
  std::vector<std::pair<std::string, std::string>> headers;
  if (user > 0) {
    headers.emplace_back("Authorization", "Bearer " + auth::MintToken(target_.auth_secret, user,
                                                                      std::time(nullptr) + 3600));
  } else if (user < 0) {  // The payment service's signed callback.
    headers.emplace_back("X-RP-Signature", crypto::HmacSha256Hex(target_.payment_secret, body));
  }
  std::string request = load::RenderRequest(method, path, headers, body);
  auto on_reply = [this, op, intended_ns, next = std::move(next)](HttpReply r) {
    const int64_t now_ns = MonotonicNs();
    stats_->Record(op, (now_ns - start_ns_) / 1'000'000'000, r.status,
                   (now_ns - intended_ns) / 1000);
    next(r.status, r.status == 0 ? json() : json::parse(r.body, nullptr, false));
  };
  if (!pool_->Submit(std::move(request), on_reply)) on_reply({});  // Client queue full.
}

void JourneyRunner::Start(int64_t intended_ns, std::function<void()> done) {
  ++active_;
  auto finish = [this, done = std::move(done)] {
    --active_;
    done();
  };
  const FlowSpec& f = scenario_.flows;
  const double total = f.c2c.weight + f.b2c.weight + f.hot.weight;
  double pick = std::uniform_real_distribution<double>(0, total)(rng_);
  ++journeys_;
  if (pick < f.hot.weight && !hot_packets_.empty()) return Hot(intended_ns, std::move(finish));
  pick -= f.hot.weight;
  if (pick < f.b2c.weight) return B2c(intended_ns, std::move(finish));
  if (f.c2c.weight > 0) return C2c(intended_ns, std::move(finish));
  return B2c(intended_ns, std::move(finish));
}

void JourneyRunner::Hot(int64_t intended_ns, std::function<void()> done) {
  const int64_t packet = hot_packets_[static_cast<size_t>(hot_claims_) % hot_packets_.size()];
  // Fresh users in order, so winners are exactly min(shares, claimers); past the population
  // they repeat, and a repeat must be answered with the first claim.
  const int64_t user = scenario_.first_user_id + (hot_claims_++ % scenario_.users);
  Call("claim", "POST", "/v1/packets/" + std::to_string(packet) + "/claims", user, "", intended_ns,
       [this, packet, user, done = std::move(done)](int status, const json& b) {
         if ((status == 201 || status == 200) && b.is_object()) {
           observed_->AddClaim(
               {packet, user, b.value("claim_id", int64_t{0}), b.value("amount_cents", int64_t{0})},
               status == 200);
         }
         done();
       });
}

void JourneyRunner::C2c(int64_t intended_ns, std::function<void()> done) {
  const C2cFlow& f = scenario_.flows.c2c;
  auto j = std::make_shared<Journey>();
  j->done = std::move(done);
  j->kind = "c2c";
  j->sender = RandomUser();
  j->count = Draw(f.count);
  j->claimers = Draw(f.claimers);
  j->repeat_rate = f.repeat_claim_rate;
  const int64_t total = j->count * Draw(f.share_cents);
  json body = {{"order_no", "sim" + std::to_string(scenario_.seed) + "-" + target_.run_tag + "-" +
                                std::to_string(journeys_)},
               {"kind", "c2c"},
               {"total_cents", total},
               {"count", j->count},
               {"split", f.split},
               {"audience", "public"},
               {"video_id", "sim"}};
  Send(j, std::move(body), intended_ns);
}

void JourneyRunner::B2c(int64_t intended_ns, std::function<void()> done) {
  const B2cFlow& f = scenario_.flows.b2c;
  auto j = std::make_shared<Journey>();
  j->done = std::move(done);
  j->kind = "b2c";
  j->sender = RandomUser();
  j->count = Draw(f.count);
  j->claimers = Draw(f.claimers);
  const std::string order_no = "sim" + std::to_string(scenario_.seed) + "-" + target_.run_tag +
                               "-" + std::to_string(journeys_);
  Call("grab", "POST", "/v1/rain/" + f.round + "/grab", j->sender, "", intended_ns,
       [this, j, order_no](int status, const json& grab) {
         if ((status != 201 && status != 200) || !grab.is_object()) return j->done();
         const int64_t amount = grab.value("amount_cents", int64_t{0});
         const std::string token = grab.value("token", "");
         Call("subsidies", "GET", "/v1/subsidies", j->sender, "", MonotonicNs(),
              [this, j, amount, token, order_no](int, const json&) {
                j->count = std::max<int64_t>(1, std::min(j->count, amount));
                json body = {{"order_no", order_no},  {"kind", "b2c"},
                             {"total_cents", amount}, {"count", j->count},
                             {"split", "random"},     {"audience", "public"},
                             {"video_id", "rain"},    {"subsidy_token", token}};
                Send(j, std::move(body), MonotonicNs());
              });
       });
}

void JourneyRunner::Send(std::shared_ptr<Journey> j, json body, int64_t intended_ns) {
  const int64_t total = body["total_cents"];
  Call("send", "POST", "/v1/packets", j->sender, body.dump(), intended_ns,
       [this, j, total](int status, const json& b) {
         if ((status != 201 && status != 200) || !b.is_object()) return j->done();
         j->packet_id = b.value("packet_id", int64_t{0});
         observed_->packets[j->packet_id] = {j->packet_id, j->kind, j->sender, total, j->count};
         if (b.value("status", "") == "active") return Claims(j);
         AwaitPayment(j, b.value("pay_order_no", ""), kPaymentPollsMax);
       });
}

void JourneyRunner::AwaitPayment(std::shared_ptr<Journey> j, std::string pay_order_no,
                                 int polls_left) {
  if (target_.mocks_url.empty()) {  // We are the payment service: sign the callback.
    const ObservedPacket& p = observed_->packets[j->packet_id];
    json body = {
        {"pay_order_no", pay_order_no}, {"status", "paid"}, {"amount_cents", p.total_cents}};
    Call("pay", "POST", "/v1/payments/callback", -1, body.dump(), MonotonicNs(),
         [this, j](int status, const json& b) {
           if (status == 200 && b.value("status", "") == "active") return Claims(j);
           j->done();
         });
    return;
  }
  Call("poll", "GET", "/v1/packets/" + std::to_string(j->packet_id), j->sender, "", MonotonicNs(),
       [this, j, pay_order_no, polls_left](int status, const json& b) {
         if (status == 200 && b.value("status", "") == "active") return Claims(j);
         if (polls_left <= 1 || (status == 200 && b.value("status", "") != "awaiting_payment")) {
           return j->done();  // Never paid (a lost callback the server's poll will settle).
         }
         const int done_polls = kPaymentPollsMax - polls_left;
         const int64_t delay_ms = std::min(kPollMaxMs, kPollFirstMs << std::min(done_polls, 10));
         auto timer =
             std::make_shared<boost::asio::steady_timer>(io_, std::chrono::milliseconds(delay_ms));
         timer->async_wait([this, j, pay_order_no, polls_left, timer](boost::system::error_code) {
           AwaitPayment(j, pay_order_no, polls_left - 1);
         });
       });
}

void JourneyRunner::Claims(std::shared_ptr<Journey> j) {
  if (j->claimers == 0) return j->done();
  std::set<int64_t> users;
  while (static_cast<int64_t>(users.size()) < std::min(j->claimers, scenario_.users)) {
    users.insert(RandomUser());
  }
  j->outstanding = static_cast<int>(users.size());
  std::bernoulli_distribution replay(j->repeat_rate);
  for (int64_t user : users) Claim(j, user, replay(rng_));
}

void JourneyRunner::Claim(std::shared_ptr<Journey> j, int64_t user, bool replay_after) {
  Call("claim", "POST", "/v1/packets/" + std::to_string(j->packet_id) + "/claims", user, "",
       MonotonicNs(), [this, j, user, replay_after](int status, const json& b) {
         if ((status == 201 || status == 200) && b.is_object()) {
           observed_->AddClaim({j->packet_id, user, b.value("claim_id", int64_t{0}),
                                b.value("amount_cents", int64_t{0})},
                               status == 200);
           if (replay_after) return Claim(j, user, false);
         }
         if (--j->outstanding == 0) Detail(j);
       });
}

void JourneyRunner::Detail(std::shared_ptr<Journey> j) {
  Call("detail", "GET", "/v1/packets/" + std::to_string(j->packet_id) + "/claims?limit=20",
       j->sender, "", MonotonicNs(), [j](int, const json&) { j->done(); });
}

}  // namespace rp::sim
