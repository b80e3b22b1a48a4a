// PacketService: sending packets (C2C directly; B2C handed to B2cService) and taking the
// payment service's callbacks. It composes the send's ledger transaction with what the claim
// scheme keeps per packet (presplit draws its shares in the same transaction) and tells the
// scheme once it committed. Thread-safe; answers through `done` exactly once, on an engine or
// pool thread (or at once when refused).
#pragma once

#include <functional>
#include <optional>
#include <string>

#include "common/clock.h"
#include "server/core/b2c.h"
#include "server/core/claim_scheme.h"
#include "server/core/options.h"
#include "server/core/payment.h"
#include "server/core/send.h"
#include "server/ledger/engine.h"

namespace rp::core {

class PacketService {
 public:
  // Pointers are not owned and must outlive the service; b2c may be null (no reward service:
  // B2C sends answer reward_not_configured). With a payment_notify_url, C2C sends queue the pay
  // order at the payment service (checkout) and its polling.
  PacketService(ledger::Engine* ledger, ClaimScheme* scheme, B2cService* b2c, const Clock* clock,
                PacketOptions limits, std::optional<std::string> payment_notify_url);

  // Validates the request (errors name the field), then sends. The outcome's replay is set for
  // a same-body repeat of an order number.
  void Send(SendRequest req, int64_t sender_id, std::function<void(Result<SendOutcome>)> done);
  // A payment callback whose signature the caller checked.
  void Paid(PaymentCallback cb, std::function<void(Result<PaymentOutcome>)> done);
  const PacketOptions& limits() const { return limits_; }

 private:
  ledger::Engine* ledger_;
  ClaimScheme* scheme_;
  B2cService* b2c_;
  const Clock* clock_;
  const PacketOptions limits_;
  const std::optional<std::string> notify_url_;
};

}  // namespace rp::core
