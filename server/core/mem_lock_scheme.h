// mem_lock — the seed's final scheme: a Redis counter of remaining shares rejects claims once
// it reaches zero without a write to the ledger (rate limiting by remaining count); claims that
// pass are serialised per packet in this process (the writer's per-packet key: never two in one
// commit, as an in-memory lock in front of the DB would) and then run the same ClaimTx as every
// scheme; transfers are asynchronous as always.
//
// Redis is an accelerator. Lost, flushed, restarted or slow Redis never over-issues, loses or
// doubles a claim: the ledger decides every win. Missing counters fall back to the ledger path
// and are rebuilt from the ledger's remaining count; a counter that let a claim through to a
// sold-out packet is reset from the ledger (detected divergence); a claim the ledger refused
// for another reason gives its decrement back. A Redis "sold out" is checked against the read
// side (a snapshot read, never a write): a repeat claimer gets the original claim (200), and a
// counter at 0 while the ledger still has shares is resynced and the claim proceeds. Once the
// read side has shown a packet final (finished, expired), its claimers are loaded once and
// later claims by anyone else are refused in-process, before Redis (FinalPackets). At start-up
// the open packets' counters are dropped, so the first claim of each rebuilds it.
#pragma once

#include <memory>

#include "server/core/claim_scheme.h"

namespace rp::core {

// deps.redis must be set.
std::unique_ptr<ClaimScheme> MakeMemLockScheme(const ClaimSchemeDeps& deps);

}  // namespace rp::core
