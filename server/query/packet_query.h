// The read side: packet details, the claims detail page ("others' luck") and ledger snapshots for
// the conservation checker. Everything reads through a ReadPool; nothing here writes.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/conservation.h"
#include "common/sqlite.h"
#include "common/status.h"
#include "server/core/claim_tx.h"
#include "server/query/read_pool.h"

namespace rp::query {

struct PacketView {
  int64_t packet_id = 0;
  std::string kind;
  int64_t sender_id = 0;
  std::string status;
  std::string audience;
  int64_t total_cents = 0;
  int64_t count = 0;
  int64_t claimed_count = 0;
  int64_t claimed_cents = 0;
  int64_t created_at_ms = 0;
  int64_t expires_at_ms = 0;
};

struct ClaimView {
  int64_t claim_id = 0;
  int64_t seq = 0;
  int64_t user_id = 0;
  int64_t amount_cents = 0;
  int64_t claimed_at_ms = 0;
  bool best_luck = false;
};

struct ClaimsPage {
  std::vector<ClaimView> claims;
  std::optional<int64_t> next_cursor;         // Pass back as `cursor` for the next page.
  std::optional<int64_t> best_luck_claim_id;  // Set once the packet is finished.
};

// NotFound("packet_not_found").
Result<PacketView> GetPacket(ReadPool& pool, int64_t packet_id);

// Claims in claim order after `after_seq` (0 for the first page), at most `limit`.
Result<ClaimsPage> ListClaims(ReadPool& pool, int64_t packet_id, int64_t after_seq, int limit);

// The user's claim on a packet as the last committed snapshot has it (for schemes that answer
// repeats without the writer). NotFound("claim_not_found") when there is none.
Result<core::ClaimOutcome> FindClaim(ReadPool& pool, int64_t packet_id, int64_t user_id);

// What a "sold out" verdict from an accelerator is checked against, in one snapshot: the user's
// earlier claim (if any) and the packet's status and remaining shares.
struct SoldOutView {
  std::optional<core::ClaimOutcome> mine;
  std::string status;
  int64_t remaining_count = 0;
};
Result<SoldOutView> CheckSoldOut(ReadPool& pool, int64_t packet_id, int64_t user_id);

// A packet's status and, when it is final (finished, expired, refunded: no claim can be added
// any more), every user who claimed it — at most `limit`; `complete` is false when there were
// more. Non-final packets come back with no claimers.
struct FinalView {
  std::string status;
  std::vector<int64_t> claimers;
  bool complete = false;
};
Result<FinalView> FinalClaimers(ReadPool& pool, int64_t packet_id, int64_t limit);

// Packets that can still be claimed or paid (awaiting_payment, active), newest first, at most
// `limit`.
Result<std::vector<int64_t>> OpenPacketIds(ReadPool& pool, int64_t limit);

// Every packet, claim, transfer order and refund order, read in one snapshot.
Status LoadSnapshot(sql::Db& db, conservation::LedgerSnapshot* out);
Result<conservation::LedgerSnapshot> Snapshot(ReadPool& pool);

}  // namespace rp::query
