// FinalPackets: packets in a final state (finished, expired, refunded) with the users who claimed
// them, as the ledger had them once they were final. A final packet never changes again, so a
// claim on one by any other user can be refused in-process, without Redis or the ledger: the
// seed's "reject once nothing is left, without touching the DB", made exact. Only the ledger's
// read side fills it (never a Redis verdict), so it cannot refuse a claim the ledger would take.
//
// Bounded: at most `entries_max` entries in all (a packet counts one plus its claimers); the
// least recently used packets are forgotten first, and a packet larger than the bound is not
// remembered. Thread-safe.
#pragma once

#include <cstdint>
#include <list>
#include <mutex>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "common/status.h"
#include "server/ledger/records.h"
#include "server/ledger/sql.h"

namespace rp::core {

class FinalPackets {
 public:
  explicit FinalPackets(size_t entries_max);

  // The refusal for a claim by `user_id` on a remembered final packet: Conflict("sold_out") for
  // a finished packet, Gone("expired") for an expired or refunded one. OK when the packet is not
  // remembered or the user is one of its claimers (the ledger answers with their claim).
  Status Refusal(int64_t packet_id, int64_t user_id);

  // Remembers a packet the ledger reported in final `state` with these claimers. Ignored for a
  // state that is not final or when the claimers alone exceed the bound.
  void Remember(int64_t packet_id, ledger::PacketState state, std::vector<int64_t> claimers);
  // Reads the claimers of a packet the caller saw in `state` (at most the bound, one query in
  // tx) and remembers them, when `state` is final; nothing otherwise. A final packet's claims
  // never change, so any transaction may read them, even one that rolls back. Non-OK: the read
  // failed, and nothing was remembered.
  Status Load(ledger::ReadTx& tx, int64_t packet_id, ledger::PacketState state);
  size_t entries() const;  // Packets plus their claimers, remembered now (for tests).

 private:
  struct Entry {
    bool finished = false;  // Else expired or refunded.
    std::unordered_set<int64_t> claimers;
    std::list<int64_t>::iterator lru;
  };
  void EvictUntil(size_t room);  // mu_ held.

  const size_t entries_max_;
  mutable std::mutex mu_;
  std::unordered_map<int64_t, Entry> packets_;
  std::list<int64_t> lru_;  // Most recently used first.
  size_t entries_ = 0;
};

}  // namespace rp::core
