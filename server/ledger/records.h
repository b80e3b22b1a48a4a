// The ledger's record types — one struct per table, with typed states and kinds — and the text
// names those enums have in the database and on the wire. The ledger (SQLite embedded, or a
// client/server database) is the source of truth for every money movement; these structs are
// what the rest of the server sees of it. Plain values; thread-compatible.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "common/enum_names.h"

namespace rp::ledger {

enum class PacketKind : uint8_t { kC2c, kB2c };
enum class SplitKind : uint8_t { kRandom, kEven };
enum class Audience : uint8_t { kFans, kFriends, kPublic };
enum class PacketState : uint8_t {
  kAwaitingPayment,
  kActive,
  kFinished,
  kExpired,
  kRefunded,
  kClosed,
};
enum class ClaimState : uint8_t { kTransferPending, kTransferred, kTransferFailed };
enum class RefundState : uint8_t { kPending, kRefunded, kFailed };
enum class SubsidyState : uint8_t {
  kRecorded,    // In the ledger, unused.
  kTrying,      // TCC try in flight for a packet.
  kConfirming,  // Packet active; confirm pending.
  kUsed,        // Confirmed at the reward service.
  kReleased,    // The reward service refused it.
};
enum class PaymentStatus : uint8_t { kPaid, kFailed };
enum class TaskKind : uint8_t { kTransfer, kRefund, kPayment };
// What an events row is about.
enum class Entity : uint8_t { kPacket, kClaim, kRefund, kSubsidy };

inline constexpr EnumNames<PacketKind, 2> kPacketKinds{{"c2c", "b2c"}};
inline constexpr EnumNames<SplitKind, 2> kSplitKinds{{"random", "even"}};
inline constexpr EnumNames<Audience, 3> kAudiences{{"fans", "friends", "public"}};
inline constexpr EnumNames<PacketState, 6> kPacketStates{
    {"awaiting_payment", "active", "finished", "expired", "refunded", "closed"}};
inline constexpr EnumNames<ClaimState, 3> kClaimStates{
    {"transfer_pending", "transferred", "transfer_failed"}};
inline constexpr EnumNames<RefundState, 3> kRefundStates{
    {"refund_pending", "refunded", "refund_failed"}};
inline constexpr EnumNames<SubsidyState, 5> kSubsidyStates{
    {"recorded", "trying", "confirming", "used", "released"}};
inline constexpr EnumNames<PaymentStatus, 2> kPaymentStatuses{{"paid", "failed"}};
inline constexpr EnumNames<TaskKind, 3> kTaskKinds{{"transfer", "refund", "payment"}};
// The worker lanes (bulkheads): payment tasks call the payment service, transfers and refunds
// the wallet; each lane has workers of its own so a slow service holds only its own lane.
enum class TaskLane : uint8_t { kAll, kPayment, kWallet };
inline constexpr TaskLane LaneOf(TaskKind k) {
  return k == TaskKind::kPayment ? TaskLane::kPayment : TaskLane::kWallet;
}
inline constexpr EnumNames<Entity, 4> kEntities{{"packet", "claim", "refund", "subsidy"}};

inline std::string_view Name(PacketKind v) {
  return kPacketKinds.Name(v);
}
inline std::string_view Name(SplitKind v) {
  return kSplitKinds.Name(v);
}
inline std::string_view Name(Audience v) {
  return kAudiences.Name(v);
}
inline std::string_view Name(PacketState v) {
  return kPacketStates.Name(v);
}
inline std::string_view Name(ClaimState v) {
  return kClaimStates.Name(v);
}
inline std::string_view Name(RefundState v) {
  return kRefundStates.Name(v);
}
inline std::string_view Name(SubsidyState v) {
  return kSubsidyStates.Name(v);
}
inline std::string_view Name(PaymentStatus v) {
  return kPaymentStatuses.Name(v);
}
inline std::string_view Name(TaskKind v) {
  return kTaskKinds.Name(v);
}
inline std::string_view Name(Entity v) {
  return kEntities.Name(v);
}

// Final: no claim can be added any more, so its claims never change again.
inline bool IsFinal(PacketState s) {
  return s == PacketState::kFinished || s == PacketState::kExpired || s == PacketState::kRefunded;
}

// packets: one row per red packet.
struct PacketRecord {
  int64_t packet_id = 0;
  PacketKind kind = PacketKind::kC2c;
  int64_t sender_id = 0;
  std::string order_no;
  std::string request_hash;  // SHA-256 of the canonical send request (idempotent replays).
  std::string pay_order_no;  // C2C: the pay order that funds it; "" for B2C.
  std::string subsidy_id;    // B2C: the subsidy that funds it; "" for C2C.
  PacketState state = PacketState::kAwaitingPayment;
  Audience audience = Audience::kPublic;
  int64_t total_cents = 0;
  int64_t count = 0;
  int64_t share_cap_cents = 0;  // Fixed at send time so a config change cannot strand a packet.
  SplitKind split = SplitKind::kRandom;
  int64_t claimed_count = 0;
  int64_t claimed_cents = 0;
  int64_t created_at_ms = 0;
  int64_t expires_at_ms = 0;

  int64_t remaining_cents() const { return total_cents - claimed_cents; }
  int64_t remaining_count() const { return count - claimed_count; }
};

// What a new packet row is made of (the rest starts at zero / awaiting_payment).
struct NewPacket {
  PacketKind kind = PacketKind::kC2c;
  int64_t sender_id = 0;
  std::string order_no;
  std::string request_hash;
  int64_t total_cents = 0;
  int64_t count = 0;
  int64_t share_cap_cents = 0;
  SplitKind split = SplitKind::kRandom;
  Audience audience = Audience::kPublic;
  std::string video_id;
  std::string greeting;
  int64_t created_at_ms = 0;
  int64_t expires_at_ms = 0;
};

// claims: one row per (packet, user) at most.
struct ClaimRecord {
  int64_t claim_id = 0;
  int64_t packet_id = 0;
  int64_t user_id = 0;
  int64_t seq = 0;  // 1.. in claim order within the packet.
  int64_t amount_cents = 0;
  ClaimState state = ClaimState::kTransferPending;
  int64_t claimed_at_ms = 0;
};

// payments: the payment outcomes the ledger accepted (callback or poll), one per pay order.
struct PaymentRecord {
  std::string pay_order_no;
  int64_t packet_id = 0;
  PaymentStatus status = PaymentStatus::kPaid;
  int64_t amount_cents = 0;
  int64_t received_at_ms = 0;
};

// refunds: at most one per packet.
struct RefundRecord {
  int64_t refund_id = 0;
  int64_t packet_id = 0;
  std::string refund_no;
  int64_t amount_cents = 0;
  RefundState state = RefundState::kPending;
};

// subsidies: B2C subsidies, keyed by the reward service's id.
struct SubsidyRecord {
  std::string subsidy_id;
  int64_t user_id = 0;
  std::string round;
  int64_t amount_cents = 0;
  int64_t expires_at_ms = 0;
  SubsidyState state = SubsidyState::kRecorded;
  int64_t packet_id = 0;  // 0 when unused.
  int64_t updated_at_ms = 0;
};

// outbox: work for the async service, written in the transaction of the change that needs it.
struct TaskRecord {
  int64_t task_id = 0;
  TaskKind kind = TaskKind::kTransfer;
  std::string order_no;  // Idempotency key at the downstream service.
  int64_t ref_id = 0;    // claim_id | refund_id | packet_id
  int64_t amount_cents = 0;
  std::string payload;   // JSON object: what the call needs.
  int64_t attempts = 0;  // Including the current one once leased.
  int64_t created_at_ms = 0;
  std::string queue_ref;  // A transport's own handle (a stream entry id); empty for the outbox.
};

// A task to add to the outbox.
struct NewTask {
  TaskKind kind = TaskKind::kTransfer;
  std::string order_no;
  int64_t ref_id = 0;
  int64_t amount_cents = 0;
  std::string payload = "{}";
};

}  // namespace rp::ledger
