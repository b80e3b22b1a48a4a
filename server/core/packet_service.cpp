#include "server/core/packet_service.h"

#include <memory>

namespace rp::core {

PacketService::PacketService(ledger::Engine* ledger, ClaimScheme* scheme, B2cService* b2c,
                             const Clock* clock, PacketOptions limits,
                             std::optional<std::string> payment_notify_url)
    : ledger_(ledger),
      scheme_(scheme),
      b2c_(b2c),
      clock_(clock),
      limits_(limits),
      notify_url_(std::move(payment_notify_url)) {}

void PacketService::Send(SendRequest req, int64_t sender_id,
                         std::function<void(Result<SendOutcome>)> done) {
  Status valid = ValidateSend(req, limits_);
  if (!valid.ok()) return done(valid);
  if (req.kind == "b2c") {
    if (b2c_ == nullptr) {
      return done(
          Status(Error::kRewardNotConfigured, "this server has no reward service (reward.url)"));
    }
    return b2c_->Send(std::move(req), sender_id, [done](Result<B2cSend> r) {
      if (!r.ok()) return done(r.status());
      done(std::move(r->send));
    });
  }
  auto outcome = std::make_shared<SendOutcome>();
  const int64_t now_ms = clock_->NowMs();
  ledger::WriteJob job;
  job.fn = [this, req = std::move(req), sender_id, now_ms, outcome](ledger::Tx& tx) {
    Status s = SendTx(tx, req, sender_id, limits_.share_cents_max, now_ms, limits_.ttl_s * 1000,
                      notify_url_, outcome.get());
    if (!s.ok() || outcome->replay) return s;
    return scheme_->PrepareNewPacket(tx, outcome->packet);
  };
  job.done = [this, outcome, done](const Status& s) {
    if (!s.ok()) return done(s);
    if (!outcome->replay) scheme_->NewPacketCommitted(outcome->packet);
    done(std::move(*outcome));
  };
  Status s = ledger_->Submit(std::move(job));
  if (!s.ok()) done(s);
}

void PacketService::Paid(PaymentCallback cb, std::function<void(Result<PaymentOutcome>)> done) {
  auto outcome = std::make_shared<PaymentOutcome>();
  const int64_t now_ms = clock_->NowMs();
  ledger::WriteJob job;
  job.fn = [cb = std::move(cb), now_ms, outcome](ledger::Tx& tx) {
    return PaymentTx(tx, cb, now_ms, outcome.get());
  };
  job.done = [outcome, done](const Status& s) {
    if (!s.ok()) return done(s);
    done(std::move(*outcome));
  };
  Status s = ledger_->Submit(std::move(job));
  if (!s.ok()) done(s);
}

}  // namespace rp::core
