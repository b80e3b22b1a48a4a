#include "server/core/final_packets.h"

#include "common/check.h"
#include "server/ledger/claims.h"

namespace rp::core {

FinalPackets::FinalPackets(size_t claimers_max) : entries_max_(claimers_max) {}

Status FinalPackets::Refusal(int64_t packet_id, int64_t user_id) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = packets_.find(packet_id);
  if (it == packets_.end()) return Status::Ok();
  lru_.splice(lru_.begin(), lru_, it->second.lru);
  if (it->second.claimers.count(user_id) > 0) return Status::Ok();
  if (it->second.finished) {
    return Status(Error::kSoldOut, "every share of this packet has been claimed");
  }
  return Status(Error::kExpired, "packet expired");
}

void FinalPackets::Remember(int64_t packet_id, ledger::PacketState state,
                            std::vector<int64_t> claimers) {
  const size_t weight = claimers.size() + 1;
  if (!ledger::IsFinal(state) || weight > entries_max_) return;
  std::lock_guard<std::mutex> lock(mu_);
  if (packets_.count(packet_id) > 0) return;  // Final: what is remembered cannot be stale.
  EvictUntil(weight);
  Entry& e = packets_[packet_id];
  e.finished = state == ledger::PacketState::kFinished;
  e.claimers.insert(claimers.begin(), claimers.end());
  lru_.push_front(packet_id);
  e.lru = lru_.begin();
  entries_ += e.claimers.size() + 1;
  RP_CHECK(entries_ <= entries_max_);
}

void FinalPackets::EvictUntil(size_t room) {
  while (!lru_.empty() && entries_ + room > entries_max_) {
    auto it = packets_.find(lru_.back());
    RP_CHECK(it != packets_.end());
    entries_ -= it->second.claimers.size() + 1;
    packets_.erase(it);
    lru_.pop_back();
  }
}

Status FinalPackets::Load(ledger::ReadTx& tx, int64_t packet_id, ledger::PacketState state) {
  if (!ledger::IsFinal(state)) return Status::Ok();
  // One more than fits is read, so Remember sees a packet too large for the bound and skips it.
  const auto limit = static_cast<int64_t>(entries_max_);
  Result<std::vector<int64_t>> claimers = ledger::claims::Claimers(tx, packet_id, limit);
  if (!claimers.ok()) return claimers.status();
  Remember(packet_id, state, std::move(claimers.value()));
  return Status::Ok();
}

size_t FinalPackets::entries() const {
  std::lock_guard<std::mutex> lock(mu_);
  return entries_;
}

}  // namespace rp::core
