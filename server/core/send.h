// Sending a packet: validation at the boundary and the idempotent ledger insert.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "common/status.h"
#include "server/core/options.h"
#include "server/ledger/records.h"
#include "server/ledger/sql.h"

namespace rp::core {

struct SendRequest {
  std::string order_no;
  std::string kind;  // "c2c" | "b2c"
  int64_t total_cents = 0;
  int64_t count = 0;
  std::string split;     // "random" | "even"
  std::string audience;  // "fans" | "friends" | "public"
  std::string video_id;
  std::string greeting;
  std::string subsidy_token;  // b2c only: the reward service's signed token.
};

// True for 1..max_len characters of [A-Za-z0-9_-] (order numbers, video ids).
bool IsToken(const std::string& s, size_t max_len);

// Checks every field's domain rules; the error names the field. Pure.
Status ValidateSend(const SendRequest& req, const PacketOptions& limits);

// Canonical fingerprint of a request, to tell an idempotent replay from a conflicting one.
std::string RequestHash(const SendRequest& req);

struct SendOutcome {
  ledger::PacketRecord packet;
  bool replay = false;  // true: the order_no was already used with the same body.
};

// Looks for an earlier send with this (sender, order_no): sets out->replay and out->packet when
// it has the same body; Conflict(idempotency_conflict) when another body; OK otherwise.
Status FindReplay(ledger::Tx& tx, const SendRequest& req, int64_t sender_id, SendOutcome* out);

// Inserts a validated request as a packet in awaiting_payment with its creation event; returns
// its id.
Result<int64_t> InsertPacket(ledger::Tx& tx, const SendRequest& req, int64_t sender_id,
                             int64_t share_cap_cents, int64_t now_ms, int64_t ttl_ms);

// Inserts the packet as awaiting_payment, or returns the original on a same-body replay.
// Conflict(idempotency_conflict) when the order_no was used with another body. With a
// payment_notify_url, also queues the payment task that creates the pay order at the payment
// service and polls it when no callback arrives (the callback URL is where it should call).
Status SendTx(ledger::Tx& tx, const SendRequest& req, int64_t sender_id, int64_t share_cap_cents,
              int64_t now_ms, int64_t ttl_ms, const std::optional<std::string>& payment_notify_url,
              SendOutcome* out);

}  // namespace rp::core
