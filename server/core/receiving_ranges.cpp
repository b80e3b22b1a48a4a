#include "server/core/receiving_ranges.h"

#include <algorithm>
#include <utility>

namespace rp::core {

ReceivingRanges::ReceivingRanges(size_t entries_max)
    : generation_max_(std::max<size_t>(1, entries_max / 2)) {}

std::optional<ReceivingRange> ReceivingRanges::Find(int64_t packet_id) {
  std::lock_guard<std::mutex> lock(mu_);
  if (auto it = young_.find(packet_id); it != young_.end()) return it->second;
  auto it = old_.find(packet_id);
  if (it == old_.end()) return std::nullopt;
  const ReceivingRange range = it->second;
  old_.erase(it);
  InsertYoung(packet_id, range);  // Still in use: keep it past the next turn of generations.
  return range;
}

void ReceivingRanges::Remember(int64_t packet_id, ReceivingRange range) {
  std::lock_guard<std::mutex> lock(mu_);
  if (young_.count(packet_id) != 0) return;
  old_.erase(packet_id);
  InsertYoung(packet_id, range);
}

size_t ReceivingRanges::size() const {
  std::lock_guard<std::mutex> lock(mu_);
  return young_.size() + old_.size();
}

void ReceivingRanges::InsertYoung(int64_t packet_id, ReceivingRange range) {
  if (young_.size() >= generation_max_) {
    old_ = std::move(young_);  // The old generation is forgotten.
    young_.clear();
  }
  young_.emplace(packet_id, range);
}

}  // namespace rp::core
