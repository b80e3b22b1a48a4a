// InflightClaims: claims an accelerator (Redis) let through that the ledger has not answered
// yet, per packet. A "sold out" from Redis is only a divergence if the ledger's remaining shares
// exceed what is in flight: the ledger snapshot lags the reservations by exactly those claims.
// Thread-safe; bounded by the claims in flight (entries are erased at zero).
#pragma once

#include <cstdint>
#include <mutex>
#include <unordered_map>

namespace rp::core {

class InflightClaims {
 public:
  void Add(int64_t packet_id) {
    std::lock_guard<std::mutex> lock(mu_);
    ++counts_[packet_id];
  }
  void Done(int64_t packet_id) {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = counts_.find(packet_id);
    if (it != counts_.end() && --it->second <= 0) counts_.erase(it);
  }
  int64_t Of(int64_t packet_id) const {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = counts_.find(packet_id);
    return it == counts_.end() ? 0 : it->second;
  }

 private:
  mutable std::mutex mu_;
  std::unordered_map<int64_t, int64_t> counts_;
};

}  // namespace rp::core
