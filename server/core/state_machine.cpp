#include "server/core/state_machine.h"

namespace rp::core {
namespace {
std::atomic<int64_t> g_illegal_transitions{0};
}  // namespace

bool StateMachine::Allows(std::string_view from, std::string_view to) const {
  for (const auto& [f, t] : transitions_) {
    if (f == from && t == to) return true;
  }
  return false;
}

bool StateMachine::IsState(std::string_view state) const {
  for (const auto& [f, t] : transitions_) {
    if (f == state || t == state) return true;
  }
  return false;
}

const StateMachine& PacketMachine() {
  using namespace packet_state;
  static const StateMachine kMachine("packet", {
                                                   {"", kAwaitingPayment},
                                                   {kAwaitingPayment, kActive},
                                                   {kAwaitingPayment, kClosed},
                                                   {kActive, kFinished},
                                                   {kActive, kExpired},
                                                   {kExpired, kRefunded},
                                                   // Paid after it was closed unpaid: funded
                                                   // but never claimable, refunded in full.
                                                   {kClosed, kExpired},
                                               });
  return kMachine;
}

const StateMachine& ClaimMachine() {
  using namespace claim_state;
  static const StateMachine kMachine("claim", {
                                                  {"", kTransferPending},
                                                  {kTransferPending, kTransferred},
                                                  {kTransferPending, kTransferFailed},
                                                  {kTransferFailed, kTransferred},
                                              });
  return kMachine;
}

const StateMachine& RefundMachine() {
  using namespace refund_state;
  static const StateMachine kMachine("refund", {
                                                   {"", kPending},
                                                   {kPending, kRefunded},
                                                   {kPending, kFailed},
                                                   {kFailed, kRefunded},
                                               });
  return kMachine;
}

const StateMachine& SubsidyMachine() {
  using namespace subsidy_state;
  static const StateMachine kMachine("subsidy", {
                                                    {"", kRecorded},
                                                    {"", kTrying},
                                                    {kRecorded, kTrying},
                                                    {kTrying, kConfirming},
                                                    {kTrying, kReleased},
                                                    {kConfirming, kUsed},
                                                });
  return kMachine;
}

int64_t IllegalTransitions() {
  return g_illegal_transitions.load();
}
void CountIllegalTransition() {
  ++g_illegal_transitions;
}

}  // namespace rp::core
