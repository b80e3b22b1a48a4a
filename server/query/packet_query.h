// The read side (the seed's Query Service): packet details and the claims detail page ("others'
// luck", with the best luck marked once the packet is finished). Everything reads one snapshot
// of the ledger per call; nothing here writes. Thread-safe.
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

#include "common/status.h"
#include "server/ledger/engine.h"
#include "server/ledger/records.h"

namespace rp::query {

// NotFound(packet_not_found).
Result<ledger::PacketRecord> GetPacket(ledger::Engine& ledger, int64_t packet_id);

struct ClaimsPage {
  std::vector<ledger::ClaimRecord> claims;
  std::optional<int64_t> next_cursor;         // Pass back as `cursor` for the next page.
  std::optional<int64_t> best_luck_claim_id;  // Set once the packet is finished.
};

// Claims in claim order after `after_seq` (0 for the first page), at most `limit`.
// NotFound(packet_not_found).
Result<ClaimsPage> ListClaims(ledger::Engine& ledger, int64_t packet_id, int64_t after_seq,
                              int limit);

}  // namespace rp::query
