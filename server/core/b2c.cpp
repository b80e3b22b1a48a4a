#include "server/core/b2c.h"

#include <spdlog/spdlog.h>

#include <map>

#include "common/check.h"
#include "common/clock.h"
#include "common/downstream.h"
#include "common/subsidy_token.h"
#include "server/base/service_client.h"
#include "server/core/order_numbers.h"
#include "server/core/pool_call.h"
#include "server/ledger/subsidies.h"

namespace rp::core {
namespace {

using ledger::SubsidyState;

SubsidyGrant GrantOf(const subsidy::TokenClaims& c) {
  return {c.subsidy_id, c.user_id, c.round, c.amount_cents, c.expires_at_s * 1000};
}

// A 4xx verdict of the reward service, as the error it names (budget_exhausted, ...).
Status RewardVerdict(const base::ServiceReply& r) {
  const std::string code = r.body.is_object() ? r.body.value("/error/code"_json_pointer, "") : "";
  const std::string message =
      r.body.is_object() ? r.body.value("/error/message"_json_pointer, "") : "";
  const Error e = ErrorByName(code);
  if (r.status >= 500 || e == Error::kNone) {
    return {Error::kRewardUnavailable, "reward service answered HTTP " + std::to_string(r.status)};
  }
  return {e, message.empty() ? std::string(ErrorName(e)) : message};
}

}  // namespace

B2cService::B2cService(ledger::Engine* ledger, BlockingPool* reward_pool, const Clock* clock,
                       B2cOptions options, base::RedisPool* redis, ClaimScheme* scheme)
    : ledger_(ledger),
      pool_(reward_pool),
      scheme_(scheme),
      clock_(clock),
      options_(std::move(options)),
      tcc_(options_.reward_url, options_.call_deadline_ms, options_.breakers) {
  RP_CHECK(options_.mode == "sync" || options_.mode == "async" || options_.mode == "hybrid");
  if (redis != nullptr && options_.mode == "async") {
    grabs_ = std::make_unique<base::RedisStream>(redis, "rp:grabs", "rp-subsidy");
  }
  flusher_ = std::make_unique<Periodic>("rp-b2c-flush", [this] { return FlushAsync(); });
  flusher_->Start(options_.async_flush_ms);
  settler_ = std::make_unique<Periodic>("rp-b2c-settle", [this] {
    Result<int64_t> n = SettleStuck(100);
    if (!n.ok()) spdlog::warn("subsidy settling failed: {}", n.status().ToString());
    return options_.settle_after_ms;
  });
  settler_->Start(options_.settle_after_ms);
}

B2cService::~B2cService() {
  Stop();
}

void B2cService::Stop() {
  if (settler_) settler_->Stop();
  if (flusher_) flusher_->Stop();
  FlushAsync();  // What was queued is written before we go.
}

void B2cService::Grab(std::string round, int64_t user_id,
                      std::function<void(Result<GrabOutcome>)> done) {
  RunOn<GrabOutcome>(
      pool_, [this, round = std::move(round), user_id] { return GrabNow(round, user_id); },
      std::move(done));
}

void B2cService::ListSubsidies(int64_t user_id, std::function<void(Result<SubsidyList>)> done) {
  RunOn<SubsidyList>(
      pool_, [this, user_id] { return ListNow(user_id); }, std::move(done));
}

void B2cService::Send(SendRequest req, int64_t sender_id,
                      std::function<void(Result<B2cSend>)> done) {
  RunOn<B2cSend>(
      pool_, [this, req = std::move(req), sender_id] { return SendNow(req, sender_id); },
      std::move(done));
}

Result<GrabOutcome> B2cService::GrabNow(const std::string& round, int64_t user_id) {
  Result<base::ServiceReply> r =
      base::ThreadLocalClient(options_.reward_url, options_.call_deadline_ms, "reward",
                              options_.breakers)
          .Post(downstream::RainGrabPath(round),
                downstream::ToJson(downstream::GrabRequest{user_id}));
  if (!r.ok()) return Status(Error::kRewardUnavailable, r.status().message());
  if (r->status != 200 && r->status != 201) return RewardVerdict(*r);
  Result<subsidy::TokenClaims> c = subsidy::VerifyToken(
      options_.reward_secret, r->body.is_object() ? r->body.value("token", "") : "",
      clock_->NowMs() / 1000);
  if (!c.ok() || c->user_id != user_id) {
    return Internal("the reward service returned a token we cannot verify");
  }
  Status recorded = RecordGrab(GrantOf(*c));
  if (!recorded.ok()) return recorded;
  return GrabOutcome{r->status == 201, std::move(r->body)};
}

Result<SubsidyList> B2cService::ListNow(int64_t user_id) {
  std::map<std::string, SubsidyItem> merged;
  Result<std::vector<downstream::SubsidyEntry>> listed =
      Status(Error::kRewardUnavailable, "subsidy display degraded");
  // The reward service's half is non-core: degraded, the list is the ledger's records alone.
  base::Degrader* degrader = options_.degrader;
  if (degrader == nullptr || degrader->Start(base::Feature::kSubsidyDisplay)) {
    const int64_t start_ns = MonotonicNs();
    Result<base::ServiceReply> r =
        base::ThreadLocalClient(options_.reward_url, options_.call_deadline_ms, "reward",
                                options_.breakers)
            .Get(downstream::UserSubsidiesPath(user_id));
    if (r.ok() && r->status == 200) listed = downstream::ParseSubsidyList(r->body);
    if (degrader != nullptr) {
      degrader->Finish(base::Feature::kSubsidyDisplay, listed.ok(),
                       (MonotonicNs() - start_ns) / 1'000'000);
      if (!listed.ok()) degrader->CountDegraded(base::Feature::kSubsidyDisplay);
    }
  }
  SubsidyList out;
  out.degraded = !listed.ok();
  if (listed.ok()) {
    for (const downstream::SubsidyEntry& x : *listed) {
      merged[x.subsidy_id] = {x.subsidy_id,   x.round, x.amount_cents, x.token,
                              x.expires_at_s, x.state, false,          0};
    }
  }
  Result<std::vector<ledger::SubsidyRecord>> rows = Status(Error::kInternal, "not read");
  Status s = ledger_->Read([&](ledger::ReadTx& tx) {
    rows = ledger::subsidies::OfUser(tx, user_id, 1000);
    return rows.status();
  });
  if (!s.ok()) return s;
  for (const ledger::SubsidyRecord& row : *rows) {
    SubsidyItem& item = merged[row.subsidy_id];
    item.subsidy_id = row.subsidy_id;
    item.round = row.round;
    item.amount_cents = row.amount_cents;
    item.expires_at_s = row.expires_at_ms / 1000;
    item.state = std::string(ledger::Name(row.state));  // The ledger is the truth once it has it.
    item.in_ledger = true;
    item.packet_id = row.packet_id;
  }
  for (auto& [id, item] : merged) out.items.push_back(std::move(item));
  return out;
}

Result<B2cSend> B2cService::SendNow(const SendRequest& req, int64_t sender_id) {
  Result<subsidy::TokenClaims> claims =
      subsidy::VerifyToken(options_.reward_secret, req.subsidy_token, clock_->NowMs() / 1000);
  if (!claims.ok()) return claims.status();
  const SubsidyGrant grant = GrantOf(*claims);
  B2cSend out;
  const int64_t now_ms = clock_->NowMs();
  Status s = ledger_->RunSync([&](ledger::Tx& tx) {
    Status st = BeginB2cSendTx(tx, req, grant, sender_id, options_.share_cap_cents, now_ms,
                               options_.ttl_ms, &out);
    if (!st.ok() || out.send.replay || scheme_ == nullptr) return st;
    return scheme_->PrepareNewPacket(tx, out.send.packet);
  });
  if (!s.ok()) return s;
  if (!out.send.replay && scheme_ != nullptr) scheme_->NewPacketCommitted(out.send.packet);
  const int64_t packet_id = out.send.packet.packet_id;
  if (out.subsidy_state == SubsidyState::kTrying) {
    s = TryAndSettle(packet_id, grant.subsidy_id, &out.send.packet);
    if (!s.ok()) return s;
    out.subsidy_state = SubsidyState::kConfirming;
  }
  if (out.subsidy_state == SubsidyState::kConfirming) Confirm(packet_id, grant.subsidy_id);
  if (out.subsidy_state == SubsidyState::kReleased) {
    return Status(Error::kSubsidyRefused, "the reward service refused this subsidy");
  }
  return out;
}

Status B2cService::TryAndSettle(int64_t packet_id, const std::string& subsidy_id,
                                ledger::PacketRecord* packet) {
  Status tried = tcc_.Try(subsidy_id, TccTxId(packet_id));
  if (tried.code() == Code::kUnavailable) return tried;
  const bool accepted = tried.ok();
  const int64_t now_ms = clock_->NowMs();
  Status s = ledger_->RunSync(
      [&](ledger::Tx& tx) { return SettleB2cTx(tx, packet_id, accepted, now_ms, packet); });
  if (!s.ok()) {
    // The ledger could not take the outcome: release our freeze so the subsidy is not stranded.
    if (accepted) (void)tcc_.Cancel(subsidy_id, TccTxId(packet_id));  // The settler retries.
    return s;
  }
  if (!accepted) return Status(Error::kSubsidyRefused, tried.message());
  return Status::Ok();
}

void B2cService::Confirm(int64_t packet_id, const std::string& subsidy_id) {
  if (!tcc_.Confirm(subsidy_id, TccTxId(packet_id)).ok()) return;  // The settler retries.
  const int64_t now_ms = clock_->NowMs();
  Status s =
      ledger_->RunSync([&](ledger::Tx& tx) { return ConfirmedSubsidyTx(tx, subsidy_id, now_ms); });
  if (!s.ok()) spdlog::warn("subsidy {} confirmed but not recorded: {}", subsidy_id, s.ToString());
}

Result<int64_t> B2cService::SettleStuck(int limit) {
  const int64_t before_ms = clock_->NowMs() - options_.settle_after_ms;
  std::vector<ledger::SubsidyRecord> trying, confirming;
  Status s = ledger_->Read([&](ledger::ReadTx& tx) {
    Result<std::vector<ledger::SubsidyRecord>> t =
        ledger::subsidies::InState(tx, SubsidyState::kTrying, before_ms, limit);
    if (!t.ok()) return t.status();
    Result<std::vector<ledger::SubsidyRecord>> c =
        ledger::subsidies::InState(tx, SubsidyState::kConfirming, before_ms, limit);
    if (!c.ok()) return c.status();
    trying = std::move(t.value());
    confirming = std::move(c.value());
    return Status::Ok();
  });
  if (!s.ok()) return s;
  int64_t moved = 0;
  for (const ledger::SubsidyRecord& r : trying) {
    ledger::PacketRecord packet;
    Status st = TryAndSettle(r.packet_id, r.subsidy_id, &packet);
    if (st.ok()) Confirm(r.packet_id, r.subsidy_id);
    moved += st.code() != Code::kUnavailable;
  }
  for (const ledger::SubsidyRecord& r : confirming) {
    Confirm(r.packet_id, r.subsidy_id);
    ++moved;
  }
  if (moved > 0) spdlog::info("subsidy settler re-drove {} hanging TCC(s)", moved);
  std::lock_guard<std::mutex> lock(mu_);
  stats_.settled += moved;
  return moved;
}

}  // namespace rp::core
