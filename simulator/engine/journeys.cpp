#include <utility>  // Before Boost: asio/awaitable.hpp needs it under g++ 12 / C++20.

#include "simulator/engine/journeys.h"

#include <ctime>
#include <set>

#include "common/clock.h"

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
      creds_{target.auth_secret, target.payment_secret},
      pool_(pool),
      stats_(stats),
      observed_(observed),
      start_ns_(start_ns),
      rng_(scenario.seed ^ 0x9e3779b97f4a7c15ULL) {}

void JourneyRunner::Event(const char* op, int64_t invoked_ns, int status, int64_t packet,
                          int64_t user, int64_t claim_id, int64_t amount_cents) {
  observed_->Record({op, (invoked_ns - start_ns_) / 1'000'000,
                     (MonotonicNs() - start_ns_) / 1'000'000, status, packet, user, claim_id,
                     amount_cents});
}

void JourneyRunner::RecordClaim(int64_t invoked_ns, int status, int64_t packet, int64_t user,
                                const json& body) {
  const bool granted = (status == 201 || status == 200) && body.is_object();
  Event("claim", invoked_ns, status, packet, user, granted ? body.value("claim_id", int64_t{0}) : 0,
        granted ? body.value("amount_cents", int64_t{0}) : 0);
}

int64_t JourneyRunner::Draw(const IntRange& r) {
  return std::uniform_int_distribution<int64_t>(r.min, r.max)(rng_);
}

int64_t JourneyRunner::RandomUser() {
  return scenario_.first_user_id +
         std::uniform_int_distribution<int64_t>(0, scenario_.users - 1)(rng_);
}

void JourneyRunner::Call(const char* op, const api::Request& req, int64_t intended_ns, Next next) {
  auto on_reply = [this, op, intended_ns, next = std::move(next)](HttpReply r) {
    const int64_t now_ns = MonotonicNs();
    const json body = r.status == 0 ? json() : json::parse(r.body, nullptr, false);
    const bool degraded = body.is_object() && body.contains("degraded") &&
                          body["degraded"].is_boolean() && body["degraded"].get<bool>();
    stats_->Record(op, (now_ns - start_ns_) / 1'000'000'000, r.status,
                   (now_ns - intended_ns) / 1000, degraded);
    if (const NoAnswer no = NoAnswerOf(r.status, r.no_answer); no != NoAnswer::kNone) {
      stats_->RecordUnanswered(op, no, (intended_ns - start_ns_) / 1'000'000,
                               (now_ns - start_ns_) / 1'000'000);
    }
    next(r.status, body);
  };
  if (!pool_->Submit(api::Render(req), on_reply)) {  // The client's own queue is full.
    HttpReply none;
    none.no_answer = NoAnswer::kNotSent;
    on_reply(std::move(none));
  }
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
  Call("claim", api::Claim(creds_, packet, user), intended_ns,
       [this, packet, user, intended_ns, done = std::move(done)](int status, const json& b) {
         RecordClaim(intended_ns, status, packet, user, b);
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
  api::SendBody body;
  body.order_no = "sim" + std::to_string(scenario_.seed) + "-" + target_.run_tag + "-" +
                  std::to_string(journeys_);
  body.total_cents = j->count * Draw(f.share_cents);
  body.count = j->count;
  body.split = f.split;
  body.video_id = "sim";
  Send(j, body, intended_ns);
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
  Call("grab", api::Grab(creds_, f.round, j->sender), intended_ns,
       [this, j, order_no, intended_ns](int status, const json& grab) {
         Event("grab", intended_ns, status, 0, j->sender, 0,
               grab.is_object() ? grab.value("amount_cents", int64_t{0}) : 0);
         if ((status != 201 && status != 200) || !grab.is_object()) return j->done();
         const int64_t amount = grab.value("amount_cents", int64_t{0});
         const std::string token = grab.value("token", "");
         Call("subsidies", api::Subsidies(creds_, j->sender), MonotonicNs(),
              [this, j, amount, token, order_no](int, const json&) {
                j->count = std::max<int64_t>(1, std::min(j->count, amount));
                api::SendBody body;
                body.order_no = order_no;
                body.kind = "b2c";
                body.total_cents = amount;
                body.count = j->count;
                body.video_id = "rain";
                body.subsidy_token = token;
                Send(j, body, MonotonicNs());
              });
       });
}

void JourneyRunner::Send(std::shared_ptr<Journey> j, const api::SendBody& body,
                         int64_t intended_ns) {
  const int64_t total = body.total_cents;
  Call("send", api::SendPacket(creds_, j->sender, body), intended_ns,
       [this, j, total, intended_ns](int status, const json& b) {
         Event("send", intended_ns, status, b.is_object() ? b.value("packet_id", int64_t{0}) : 0,
               j->sender, 0, total);
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
    const int64_t invoked_ns = MonotonicNs();
    Call("pay", api::PaymentCallback(creds_, pay_order_no, "paid", p.total_cents), invoked_ns,
         [this, j, invoked_ns, total = p.total_cents](int status, const json& b) {
           Event("pay", invoked_ns, status, j->packet_id, j->sender, 0, total);
           if (status == 200 && b.value("status", "") == "active") return Claims(j);
           j->done();
         });
    return;
  }
  Call("poll", api::GetPacket(creds_, j->packet_id, j->sender), MonotonicNs(),
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
  const int64_t invoked_ns = MonotonicNs();
  Call("claim", api::Claim(creds_, j->packet_id, user), invoked_ns,
       [this, j, user, replay_after, invoked_ns](int status, const json& b) {
         RecordClaim(invoked_ns, status, j->packet_id, user, b);
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
  Call("detail", api::ListClaims(creds_, j->packet_id, j->sender, 20), MonotonicNs(),
       [j](int, const json&) { j->done(); });
}

}  // namespace rp::sim
