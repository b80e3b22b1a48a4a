// Verification: after the load, hold the server to what it acknowledged. It waits (bounded) for
// every packet the simulator saw to settle (finished, refunded or closed — or active with its
// expiry more than 5 s ahead, so it owes no refund yet) and for the async
// transfers and refunds to drain, then reads every such packet and all its claims back through
// the API and the wallet's records (rp-mock) and checks:
//   - the conservation invariant per packet (common/conservation.h — the same checker the tests
//     and reconciliation use): no over-issue, no double claim, every claim transferred exactly
//     once for its amount, every expired remainder refunded;
//   - every claim the server acknowledged is present with the same id, user and amount (a claim
//     list the server answers degraded is read again until it is not: an empty degraded page
//     is not the ledger's word);
//   - the answers themselves never contradicted each other (Observed::anomalies);
//   - the server's own reconciliation (/admin/recon) is clean;
//   - every claim in the history (Observed::history) against the ledger, naming the request:
//     an acknowledged one is there as acknowledged, one whose outcome the client never learned
//     (no answer, a 5xx) is there at most once, a refused one (409/410) with no other attempt
//     by that user is not there.
// Any breach is a violation and fails the run, whatever the scenario's checks say.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "common/results/run_summary.h"
#include "simulator/engine/journeys.h"
#include "simulator/engine/observed.h"

namespace rp::sim {

struct VerifyOptions {
  int64_t settle_wait_s_max = 60;  // For packets to expire and be refunded, and queues to drain.
  int64_t unreachable_s_max = 20;  // No answer at all for this long: the server is down, stop.
  // A claim list answered "degraded" (the server switched its others'-luck list off, by its SLO
  // or an admin) is an empty page, not the ledger's word: it is read again until the feature is
  // back, for at most this long in all; past it the packet's claims count as unreadable.
  int64_t degraded_wait_s_max = 30;
};

// What the verification found: the struct summary.json carries (common/results/run_summary.h).
using VerificationReport = results::SummaryVerification;

VerificationReport Verify(const Observed& observed, const Target& target,
                          const VerifyOptions& options);

}  // namespace rp::sim
