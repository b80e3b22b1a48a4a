// ReceivingRanges: who may claim a packet (its sender and receiving range), remembered after the
// first read. Both are written once, when the packet is sent, and never change, so a remembered
// range is always the ledger's: a claim on a packet seen before decides its audience check
// without a ledger read and without leaving the caller's thread.
//
// Bounded: at most `entries_max` packets. Two generations of at most half that each; when the
// young one is full the old one is dropped and the young one becomes old (a packet found in the
// old generation moves back to the young one), so the packets claimed recently stay, each
// lookup and insert is O(1), and nothing is scanned to evict. Thread-safe.
#pragma once

#include <cstddef>
#include <cstdint>
#include <mutex>
#include <optional>
#include <unordered_map>

#include "server/ledger/records.h"

namespace rp::core {

struct ReceivingRange {
  int64_t sender_id = 0;
  ledger::Audience audience = ledger::Audience::kPublic;
};

class ReceivingRanges {
 public:
  explicit ReceivingRanges(size_t entries_max);

  // The packet's range if remembered, else nullopt (read the ledger, then Remember).
  std::optional<ReceivingRange> Find(int64_t packet_id);
  // Remembers a range read from the ledger for an existing packet.
  void Remember(int64_t packet_id, ReceivingRange range);
  size_t size() const;  // Packets remembered now, both generations (for tests).

 private:
  void InsertYoung(int64_t packet_id, ReceivingRange range);  // mu_ held.

  const size_t generation_max_;
  mutable std::mutex mu_;
  std::unordered_map<int64_t, ReceivingRange> young_, old_;
};

}  // namespace rp::core
