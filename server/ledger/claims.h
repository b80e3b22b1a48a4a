// The claims table: at most one claim per (packet, user), numbered 1.. within its packet.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <vector>

#include "common/status.h"
#include "server/ledger/records.h"
#include "server/ledger/sql.h"

namespace rp::ledger::claims {

// The user's claim on the packet, if any.
Result<std::optional<ClaimRecord>> Find(ReadTx& tx, int64_t packet_id, int64_t user_id);
// The claims of these users on the packet, by user, in one statement however many users there
// are (a user with no claim is absent).
Result<std::map<int64_t, ClaimRecord>> FindMany(ReadTx& tx, int64_t packet_id,
                                                const std::vector<int64_t>& user_ids);
// NotFound(claim_not_found).
Result<ClaimRecord> Load(ReadTx& tx, int64_t claim_id);
// Inserts c (claim_id ignored) in c.state; returns the new claim_id. A second claim of one user
// on one packet, or a repeated seq, fails the table's UNIQUE constraints (Conflict).
Result<int64_t> Insert(Tx& tx, const ClaimRecord& c, int64_t now_ms);

// Claims in claim order after after_seq, at most limit; `more` when there are more.
struct Page {
  std::vector<ClaimRecord> claims;
  bool more = false;
};
Result<Page> List(ReadTx& tx, int64_t packet_id, int64_t after_seq, int limit);
// The largest claim (earliest on a tie), if the packet has any.
Result<std::optional<int64_t>> BestLuck(ReadTx& tx, int64_t packet_id);
// Who claimed the packet: at most limit + 1 user ids (so callers see when there were more).
Result<std::vector<int64_t>> Claimers(ReadTx& tx, int64_t packet_id, int64_t limit);

}  // namespace rp::ledger::claims
