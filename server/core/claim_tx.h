// The claim transaction every claim scheme ends in: re-read the packet (holding its row lock to
// commit where the engine has row locks), check the claimer, draw the share, insert the claim
// and its transfer order, update the packet. Runs inside a ledger write job, so on any error
// nothing of it is written.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <vector>

#include "common/status.h"
#include "server/base/degrade.h"
#include "server/core/split.h"
#include "server/ledger/records.h"
#include "server/ledger/sql.h"

namespace rp::core {

struct ClaimOutcome {
  ledger::ClaimRecord claim;
  bool repeat = false;  // true: the user had already claimed; this is that claim.
  // Set when the claim went ahead with a non-core step skipped (the receiving-range check).
  std::optional<base::Feature> degraded;
};

// Where a claim's amount comes from: by default a double-mean draw; pre-split packets take a
// share row instead. Called inside the transaction with the packet as re-read; returns the
// amount (>= 1) or an error that aborts the claim.
using ShareSource =
    std::function<Result<int64_t>(ledger::Tx&, const ledger::PacketRecord&, int64_t user_id)>;

// Errors: NotFound(packet_not_found), Conflict(not_claimable) before payment, Gone(expired) past
// expiry, Conflict(sold_out). A user's second claim is not an error: it returns the first claim
// with repeat = true, even after the packet sold out or expired.
Status ClaimTx(ledger::Tx& tx, int64_t packet_id, int64_t user_id, int64_t now_ms, ShareRng& rng,
               ClaimOutcome* out, const ShareSource* source = nullptr);

// Many claims of one packet in one transaction (the batched scheme): the packet is read and
// locked once, the claimers' earlier claims are looked up in one statement, the packet row is
// written once for all of them, and each claimer costs one awaited statement (its claim
// insert). (*statuses)[i] is claimer i's refusal, as ClaimTx would give it (sold out, expired,
// ...); refusals are decided before anything is written. A non-OK return (a failed write) fails
// the whole batch: nothing of it may commit.
Status ClaimBatchTx(ledger::Tx& tx, int64_t packet_id, const std::vector<int64_t>& user_ids,
                    int64_t now_ms, ShareRng& rng, std::vector<ClaimOutcome>* outcomes,
                    std::vector<Status>* statuses);

// The claim with the packet's update last (the cond_update scheme). `seen` is the packet as the
// caller last saw it, read without a lock or kept from its previous claim. The share is drawn
// from `seen`, the claim, its creation event and its transfer order are written, and then the
// packet's counters — only if the packet is still active with seen.claimed_count claims. So the
// packet's row is locked from that last update to the commit, not while the claim is decided.
// Errors: the refusals ClaimTx gives, judged on `seen` (a repeat claimer is not recognised: its
// claim insert fails the claims table's UNIQUE constraint, Conflict(constraint_violation));
// Conflict(state_changed) when the packet moved on since `seen`. On any error nothing of it may
// commit; the caller reads the packet again and retries. On success *after is the packet with
// this claim counted (and finished, when it took the last share).
Status ClaimOnSeenTx(ledger::Tx& tx, const ledger::PacketRecord& seen, int64_t user_id,
                     int64_t now_ms, ShareRng& rng, ClaimOutcome* out, ledger::PacketRecord* after);

// Whether a packet in this state at now_ms takes claims: OK, or the refusal a claim gets.
Status CheckClaimable(const ledger::PacketRecord& p, int64_t now_ms);

}  // namespace rp::core
