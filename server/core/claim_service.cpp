#include "server/core/claim_service.h"

#include "common/check.h"
#include "common/clock.h"
#include "server/ledger/packets.h"

namespace rp::core {

ClaimResult ResultOf(const Result<ClaimOutcome>& r) {
  if (r.ok()) return r->repeat ? ClaimResult::kRepeat : ClaimResult::kWon;
  switch (r.status().err()) {
    case Error::kSoldOut:
      return ClaimResult::kSoldOut;
    case Error::kExpired:
      return ClaimResult::kExpired;
    case Error::kNotClaimable:
      return ClaimResult::kNotClaimable;
    case Error::kPacketNotFound:
      return ClaimResult::kPacketNotFound;
    case Error::kNotInAudience:
      return ClaimResult::kNotInAudience;
    default:
      return ClaimResult::kError;
  }
}

ClaimService::ClaimService(ClaimScheme* scheme, ledger::Engine* ledger, AudienceChecker* audience,
                           BlockingPool* social_pool, metrics::Hub* hub, base::Degrader* degrader,
                           BlockingPool* read_pool)
    : read_pool_(read_pool),
      scheme_(scheme),
      degrader_(degrader),
      ledger_(ledger),
      audience_(audience),
      social_pool_(social_pool) {
  RP_CHECK(scheme_ != nullptr && ledger_ != nullptr && hub != nullptr);
  RP_CHECK((audience_ == nullptr) == (social_pool_ == nullptr));
  auto& family = prometheus::BuildCounter()
                     .Name("rp_claims_total")
                     .Help("Claims by scheme and result")
                     .Register(hub->registry());
  for (size_t i = 0; i < counts_.size(); ++i) {
    counts_[i] = &family.Add({{"scheme", std::string(scheme_->name())},
                              {"result", std::string(kClaimResults.names[i])}});
  }
}

void ClaimService::ClaimNow(int64_t packet_id, int64_t user_id, ClaimDone done, bool degraded) {
  scheme_->Claim(packet_id, user_id, [this, done, degraded](Result<ClaimOutcome> r) {
    counts_[static_cast<size_t>(ResultOf(r))]->Increment();
    if (degraded && r.ok()) r->degraded = base::Feature::kAudience;
    done(std::move(r));
  });
}

// On a social pool thread: the lookup, then the claim. The audience feature's SLO is judged on
// what the claimer waited for the check: the lookup and the time queued for it.
void ClaimService::CheckedClaim(int64_t packet_id, int64_t user_id, int64_t sender,
                                ledger::Audience range, ClaimDone done, int64_t queued_ns) {
  const AudienceChecker::Verdict v = audience_->Check(sender, user_id, range);
  const bool unchecked = v == AudienceChecker::Verdict::kUnchecked;
  if (degrader_ != nullptr) {
    degrader_->Finish(base::Feature::kAudience, !unchecked,
                      (MonotonicNs() - queued_ns) / 1'000'000);
    if (unchecked) degrader_->CountDegraded(base::Feature::kAudience);
  }
  if (v != AudienceChecker::Verdict::kRefused) return ClaimNow(packet_id, user_id, done, unchecked);
  Result<ClaimOutcome> refused = Status(
      Error::kNotInAudience, "this packet is for the sender's " + std::string(ledger::Name(range)));
  counts_[static_cast<size_t>(ClaimResult::kNotInAudience)]->Increment();
  done(std::move(refused));
}

void ClaimService::Claim(int64_t packet_id, int64_t user_id, ClaimDone done) {
  if (audience_ == nullptr) return ClaimNow(packet_id, user_id, std::move(done));
  if (std::optional<ReceivingRange> range = ranges_.Find(packet_id)) {
    return ClaimInRange(packet_id, user_id, *range, std::move(done));
  }
  if (read_pool_ == nullptr) return AudienceClaim(packet_id, user_id, std::move(done));
  auto held = std::make_shared<ClaimDone>(std::move(done));
  Status s = read_pool_->Submit(
      [this, packet_id, user_id, held] { AudienceClaim(packet_id, user_id, std::move(*held)); },
      [held](Status refused) { (*held)(std::move(refused)); });  // Waited past its bound: 503.
  if (!s.ok()) (*held)(s);  // The read pool is full: 503, retry later.
}

void ClaimService::AudienceClaim(int64_t packet_id, int64_t user_id, ClaimDone done) {
  // The receiving range: packet metadata from the read side, the relation from the social
  // service (blocking, so on the social pool; see core/audience.h for how a failed lookup
  // degrades).
  Result<ledger::PacketRecord> p = Status(Error::kInternal, "not read");
  Status read = ledger_->Read([&](ledger::ReadTx& tx) {
    p = ledger::packets::Load(tx, packet_id);
    return Status::Ok();
  });
  // Unreadable here: the scheme gives the authoritative answer (e.g. 404).
  if (!read.ok() || !p.ok()) return ClaimNow(packet_id, user_id, std::move(done));
  const ReceivingRange range{p->sender_id, p->audience};
  ranges_.Remember(packet_id, range);
  ClaimInRange(packet_id, user_id, range, std::move(done));
}

void ClaimService::ClaimInRange(int64_t packet_id, int64_t user_id, ReceivingRange range,
                                ClaimDone done) {
  if (range.audience == ledger::Audience::kPublic || range.sender_id == user_id) {
    return ClaimNow(packet_id, user_id, std::move(done));
  }
  // The check is non-core: degraded (switched off, social breaker open, SLO broken), with the
  // social pool full or busy (its expected wait beyond its bound), or once the claim waited in
  // its queue that long, the claim goes ahead unchecked rather than wait or fail.
  if (degrader_ != nullptr && !degrader_->Start(base::Feature::kAudience)) {
    return ClaimNow(packet_id, user_id, std::move(done), /*degraded=*/true);
  }
  const int64_t queued_ns = MonotonicNs();
  Status s = social_pool_->Submit(
      [this, packet_id, user_id, range, done, queued_ns] {
        CheckedClaim(packet_id, user_id, range.sender_id, range.audience, done, queued_ns);
      },
      [this, packet_id, user_id, done, queued_ns](const Status&) {
        Unchecked(packet_id, user_id, done, (MonotonicNs() - queued_ns) / 1'000'000);
      });
  if (!s.ok()) Unchecked(packet_id, user_id, std::move(done), 0);
}

void ClaimService::Unchecked(int64_t packet_id, int64_t user_id, ClaimDone done,
                             int64_t waited_ms) {
  if (degrader_ != nullptr) {  // A failed run of the feature: it counts towards degrading it.
    degrader_->Finish(base::Feature::kAudience, false, waited_ms);
    degrader_->CountDegraded(base::Feature::kAudience);
  }
  ClaimNow(packet_id, user_id, std::move(done), /*degraded=*/true);
}

}  // namespace rp::core
