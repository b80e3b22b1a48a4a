#include "server/core/order_numbers.h"

#include <charconv>

namespace rp::core {

std::string TransferNo(int64_t claim_id) {
  return "TR" + std::to_string(claim_id);
}
std::string RefundNo(int64_t packet_id) {
  return "RF" + std::to_string(packet_id);
}
std::string PayOrderNo(int64_t packet_id) {
  return "PAY" + std::to_string(packet_id);
}
std::string TccTxId(int64_t packet_id) {
  return "PKT" + std::to_string(packet_id);
}

std::optional<int64_t> PacketOfPayOrder(std::string_view no) {
  if (no.substr(0, 3) != "PAY" || no.size() > 22) return std::nullopt;
  int64_t id = 0;
  auto [ptr, ec] = std::from_chars(no.data() + 3, no.data() + no.size(), id);
  if (ec != std::errc() || ptr != no.data() + no.size() || id <= 0) return std::nullopt;
  return id;
}

}  // namespace rp::core
