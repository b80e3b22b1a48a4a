// State machines as explicit transition tables. Every state change of a packet, claim or refund
// goes through RecordTransition (core/ledger_tx.h), which consults these tables, so an illegal
// transition is rejected, logged and counted, never applied.
#pragma once

#include <atomic>
#include <cstdint>
#include <string_view>
#include <utility>
#include <vector>

namespace rp::core {

namespace packet_state {
inline constexpr std::string_view kAwaitingPayment = "awaiting_payment";
inline constexpr std::string_view kActive = "active";
inline constexpr std::string_view kFinished = "finished";
inline constexpr std::string_view kExpired = "expired";
inline constexpr std::string_view kRefunded = "refunded";
inline constexpr std::string_view kClosed = "closed";
}  // namespace packet_state

namespace claim_state {
inline constexpr std::string_view kTransferPending = "transfer_pending";
inline constexpr std::string_view kTransferred = "transferred";
inline constexpr std::string_view kTransferFailed = "transfer_failed";
}  // namespace claim_state

namespace refund_state {
inline constexpr std::string_view kPending = "refund_pending";
inline constexpr std::string_view kRefunded = "refunded";
inline constexpr std::string_view kFailed = "refund_failed";
}  // namespace refund_state

namespace subsidy_state {
inline constexpr std::string_view kRecorded = "recorded";      // In the ledger, unused.
inline constexpr std::string_view kTrying = "trying";          // TCC try in flight for a packet.
inline constexpr std::string_view kConfirming = "confirming";  // Packet active; confirm pending.
inline constexpr std::string_view kUsed = "used";              // Confirmed at the reward service.
inline constexpr std::string_view kReleased = "released";      // The reward service refused it.
}  // namespace subsidy_state

// "" as the from-state means creation.
class StateMachine {
 public:
  StateMachine(std::string_view entity,
               std::vector<std::pair<std::string_view, std::string_view>> transitions)
      : entity_(entity), transitions_(std::move(transitions)) {}

  std::string_view entity() const { return entity_; }
  bool Allows(std::string_view from, std::string_view to) const;
  bool IsState(std::string_view state) const;

 private:
  std::string_view entity_;
  std::vector<std::pair<std::string_view, std::string_view>> transitions_;
};

const StateMachine& PacketMachine();
const StateMachine& ClaimMachine();
const StateMachine& RefundMachine();
const StateMachine& SubsidyMachine();

// Count of rejected transitions since start (exported as a metric).
int64_t IllegalTransitions();
void CountIllegalTransition();

}  // namespace rp::core
