// Observed: the simulator's own record of what the server acknowledged during a run — every
// packet it accepted and every claim it granted — kept independently of the server so the
// verification can hold the server to its answers (Jepsen style: the client's view is evidence).
// Not thread-safe: the load engine's io thread writes it; the verifier reads it afterwards.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

namespace rp::sim {

struct ObservedPacket {
  int64_t packet_id = 0;
  std::string kind;  // c2c | b2c
  int64_t sender_id = 0;
  int64_t total_cents = 0;
  int64_t count = 0;
};

struct ObservedClaim {
  int64_t packet_id = 0;
  int64_t user_id = 0;
  int64_t claim_id = 0;
  int64_t amount_cents = 0;
};

// One money-moving request as the client saw it (Jepsen's history): when it was invoked and
// completed, and its outcome — ok (2xx), failed (a definite refusal: 4xx), or unknown (no answer
// or a 5xx: it may or may not have taken effect). history.jsonl in the results folder.
struct HistoryEvent {
  const char* op = "";  // send | pay | grab | claim (string literals: no allocation per event)
  int64_t invoked_ms = 0, completed_ms = 0;  // Since the load started.
  int status = 0;
  int64_t packet_id = 0, user_id = 0, claim_id = 0, amount_cents = 0;

  const char* outcome() const {
    return status >= 200 && status < 300   ? "ok"
           : status >= 400 && status < 500 ? "failed"
                                           : "unknown";
  }
};

struct Observed {
  // Bounded: a run past this many money-moving requests keeps the first ones and says so.
  static constexpr size_t kHistoryEventsMax = 5'000'000;

  std::map<int64_t, ObservedPacket> packets;
  std::map<std::pair<int64_t, int64_t>, ObservedClaim> claims;  // Key: (packet, user).
  // Breaches visible in the answers themselves, e.g. two different claims granted to one user.
  std::vector<std::string> anomalies;
  std::vector<HistoryEvent> history;
  int64_t history_dropped = 0;  // Events past kHistoryEventsMax, not kept.

  void Record(const HistoryEvent& e) {
    if (history.size() < kHistoryEventsMax) {
      history.push_back(e);
    } else {
      ++history_dropped;
    }
  }

  // Records a granted claim (201) or a replay (200, repeat). A second, different claim for the
  // same (packet, user), or a replay with another amount, is an anomaly.
  void AddClaim(const ObservedClaim& claim, bool repeat) {
    auto [it, inserted] = claims.emplace(std::make_pair(claim.packet_id, claim.user_id), claim);
    if (inserted) return;
    const ObservedClaim& first = it->second;
    if (first.claim_id != claim.claim_id || first.amount_cents != claim.amount_cents) {
      anomalies.push_back("user " + std::to_string(claim.user_id) + " on packet " +
                          std::to_string(claim.packet_id) + " was granted claim " +
                          std::to_string(first.claim_id) + " (" +
                          std::to_string(first.amount_cents) + " cents) and then " +
                          (repeat ? "replayed as " : "granted ") + std::to_string(claim.claim_id) +
                          " (" + std::to_string(claim.amount_cents) + " cents)");
    }
  }
};

}  // namespace rp::sim
