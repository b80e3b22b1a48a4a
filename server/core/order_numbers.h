// The order numbers the ledger gives its money movements: stable, unique, derived from the
// record they move money for, and the idempotency keys the downstream services see. A retry of
// any movement therefore carries the same number, and the service answers it with the original
// result.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace rp::core {

std::string TransferNo(int64_t claim_id);   // "TR<claim_id>": a claim's transfer to the wallet.
std::string RefundNo(int64_t packet_id);    // "RF<packet_id>": a packet's refund.
std::string PayOrderNo(int64_t packet_id);  // "PAY<packet_id>": a C2C packet's pay order.
std::string TccTxId(int64_t packet_id);     // "PKT<packet_id>": a B2C send's TCC transaction.

// The packet a pay order number names; nullopt for anything that is not "PAY<positive id>".
std::optional<int64_t> PacketOfPayOrder(std::string_view pay_order_no);

}  // namespace rp::core
