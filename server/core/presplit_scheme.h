// presplit — the seed's "pre-split red packet": a packet's shares are all drawn up front (same
// double-mean allocation) and stored as share rows; their indexes are pushed to a Redis list,
// and a claim pops the next index atomically in Redis (one Lua script that also records the
// user, so a user takes at most one index), then takes that share row in the ledger with a
// conditional update. Claims lock a share, not the packet, so they are not serialised per
// packet: they group-commit like claims on different packets.
//
// Redis is an accelerator: when it fails (or was flushed) the claim takes the next free share
// from the ledger (the seed's fallback); a popped index someone else already took in the ledger
// falls back the same way; the ledger's conditional update is what makes a share go to one user.
// Shares are drawn in the transaction that creates the packet and their indexes pushed to Redis
// right after it commits (before payment); a packet created under another scheme gets its shares
// on its first presplit claim. A popped index the ledger did not use goes back to the list. A
// "sold out" from Redis that the ledger contradicts (the list lost shares) refills the list from
// the ledger; at start-up the open packets' lists are dropped and refilled by their first claim.
// The take is pipelined (base/redis_pipeline.h): no thread waits on Redis for a claim, and one
// round trip carries every take queued meanwhile; the rest of the scheme's Redis calls (fills,
// give-backs) are rare and run on its pool.
#pragma once

#include <memory>

#include "server/core/claim_scheme.h"

namespace rp::core {

// deps.redis must be set.
std::unique_ptr<ClaimScheme> MakePresplitScheme(const ClaimSchemeDeps& deps);

}  // namespace rp::core
