// The API's JSON, both ways: request bodies into core's request types (strict: unknown fields,
// wrong types and non-integer amounts are refused, naming the field), and ledger records into
// the response shapes of docs/api.md. Pure functions; thread-safe.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

#include "common/status.h"
#include "server/core/b2c.h"
#include "server/core/claim_tx.h"
#include "server/core/payment.h"
#include "server/core/send.h"
#include "server/ledger/records.h"
#include "server/query/packet_query.h"

namespace rp::gateway {

Result<core::SendRequest> ParseSendBody(const std::string& body);
Result<core::PaymentCallback> ParseCallbackBody(const std::string& body);
// A claim takes no fields: an empty body or {}.
Status ParseClaimBody(const std::string& body);

// The send/replay view of a packet.
nlohmann::json PacketJson(const ledger::PacketRecord& p);
// GET /v1/packets/{id}.
nlohmann::json PacketDetailJson(const ledger::PacketRecord& p);
nlohmann::json ClaimJson(const core::ClaimOutcome& c);
nlohmann::json ClaimsPageJson(int64_t packet_id, const query::ClaimsPage& page);
nlohmann::json PaymentJson(const core::PaymentOutcome& o);
nlohmann::json SubsidyListJson(const core::SubsidyList& list);

// RFC 3339 UTC with milliseconds, e.g. "2026-11-24T20:15:03.123Z".
std::string FormatTimeMs(int64_t ms);

}  // namespace rp::gateway
