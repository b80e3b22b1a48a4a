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

struct VerificationReport {
  bool ok = false;
  int64_t packets_checked = 0;
  int64_t claims_checked = 0;       // Claims read back from the server.
  int64_t claims_acknowledged = 0;  // Claims the simulator was granted.
  int64_t packets_unsettled = 0;    // Still open when the settle wait ended.
  bool transfers_checked = false;   // False without rp-mock (no wallet records to read).
  // /admin/recon answered with its report. False when it never did (the server was down, or
  // answered something else): recon_clean, recon_drift_cents and recon_discrepancies then say
  // nothing, and a recon check must not read their zeros as clean.
  bool recon_answered = false;
  bool recon_clean = false;
  int64_t recon_drift_cents = 0;
  int64_t recon_discrepancies = 0;
  int64_t history_events = 0;     // Money-moving requests in the history.
  int64_t unknown_outcomes = 0;   // Claims the client never learned the outcome of.
  int64_t unknown_committed = 0;  // ... of which the ledger has (taken, once).
  // Packets whose claims could not be read back (an error, or degraded pages past the wait):
  // each is one violation, and their claims are not held against the history.
  int64_t packets_unreadable = 0;
  std::vector<std::string> violations;  // The first ones (a bounded list)...
  int64_t violations_total = 0;         // ... and how many there were in all.
};

VerificationReport Verify(const Observed& observed, const Target& target,
                          const VerifyOptions& options);

}  // namespace rp::sim
