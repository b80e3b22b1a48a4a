// The claim transaction every claim scheme ends in: re-read the packet, check the claimer,
// draw the share, insert the claim and its transfer order, update the packet. Runs inside a
// LedgerWriter job, so on any error nothing of it is written.
#pragma once

#include <cstdint>
#include <functional>
#include <random>
#include <string>

#include "common/sqlite.h"
#include "common/status.h"

namespace rp::core {

struct ClaimOutcome {
  int64_t claim_id = 0;
  int64_t packet_id = 0;
  int64_t user_id = 0;
  int64_t amount_cents = 0;
  int64_t claimed_at_ms = 0;
  std::string status;   // The claim's state, e.g. "transfer_pending".
  bool repeat = false;  // true: the user had already claimed; this is that claim.
};

// Where a claim's amount comes from: by default a double-mean draw; pre-split packets take a
// share row instead. Called inside the transaction with the packet as re-read; returns the
// amount (>= 1) or an error that aborts the claim.
using ShareSource =
    std::function<Result<int64_t>(sql::Db&, const struct PacketRow&, int64_t user_id)>;

// Errors: NotFound("packet_not_found"), Conflict("not_claimable") before payment,
// Gone("expired") past expiry, Conflict("sold_out"). A user's second claim is not an error: it
// returns the first claim with repeat = true, even after the packet sold out or expired.
Status ClaimTx(sql::Db& db, int64_t packet_id, int64_t user_id, int64_t now_ms,
               std::mt19937_64& rng, ClaimOutcome* out, const ShareSource* source = nullptr);

}  // namespace rp::core
