#include "server/ledger/state.h"

#include <spdlog/spdlog.h>

#include <array>
#include <atomic>

namespace rp::ledger {
namespace {

std::atomic<int64_t> g_illegal_transitions{0};

template <typename S>
struct Edge {
  std::optional<S> from;  // nullopt: creation.
  S to;
};

const Sql kAppendEvent(
    "INSERT INTO events (entity, entity_id, from_state, to_state, cause, at_ms) "
    "VALUES (?, ?, ?, ?, ?, ?)",
    Sql::Answer::kSentAhead);

// Per record type: its entity, its table of edges, and the conditional state update.
template <typename S>
struct Machine;

template <>
struct Machine<PacketState> {
  using S = PacketState;
  static constexpr Entity kEntity = Entity::kPacket;
  static constexpr std::array<Edge<S>, 7> kEdges = {{
      {std::nullopt, S::kAwaitingPayment},
      {S::kAwaitingPayment, S::kActive},
      {S::kAwaitingPayment, S::kClosed},
      {S::kActive, S::kFinished},
      {S::kActive, S::kExpired},
      {S::kExpired, S::kRefunded},
      {S::kClosed, S::kExpired},  // Paid after it was closed unpaid: refunded in full.
  }};
  static const Sql& Update() {
    static const Sql kSql(
        "UPDATE packets SET status = ?, updated_at_ms = ? WHERE packet_id = ? AND status = ?");
    return kSql;
  }
};

template <>
struct Machine<ClaimState> {
  using S = ClaimState;
  static constexpr Entity kEntity = Entity::kClaim;
  static constexpr std::array<Edge<S>, 4> kEdges = {{
      {std::nullopt, S::kTransferPending},
      {S::kTransferPending, S::kTransferred},
      {S::kTransferPending, S::kTransferFailed},
      {S::kTransferFailed, S::kTransferred},
  }};
  static const Sql& Update() {
    static const Sql kSql(
        "UPDATE claims SET status = ?, updated_at_ms = ? WHERE claim_id = ? AND status = ?");
    return kSql;
  }
};

template <>
struct Machine<RefundState> {
  using S = RefundState;
  static constexpr Entity kEntity = Entity::kRefund;
  static constexpr std::array<Edge<S>, 4> kEdges = {{
      {std::nullopt, S::kPending},
      {S::kPending, S::kRefunded},
      {S::kPending, S::kFailed},
      {S::kFailed, S::kRefunded},
  }};
  static const Sql& Update() {
    static const Sql kSql(
        "UPDATE refunds SET status = ?, updated_at_ms = ? WHERE refund_id = ? AND status = ?");
    return kSql;
  }
};

template <>
struct Machine<SubsidyState> {
  using S = SubsidyState;
  static constexpr Entity kEntity = Entity::kSubsidy;
  static constexpr std::array<Edge<S>, 6> kEdges = {{
      {std::nullopt, S::kRecorded},
      {std::nullopt, S::kTrying},
      {S::kRecorded, S::kTrying},
      {S::kTrying, S::kConfirming},
      {S::kTrying, S::kReleased},
      {S::kConfirming, S::kUsed},
  }};
  static const Sql& Update() {
    static const Sql kSql(
        "UPDATE subsidies SET state = ?, updated_at_ms = ? WHERE subsidy_id = ? AND state = ?");
    return kSql;
  }
};

template <typename S>
bool AllowedIn(std::optional<S> from, S to) {
  for (const Edge<S>& e : Machine<S>::kEdges) {
    if (e.from == from && e.to == to) return true;
  }
  return false;
}

Status AppendEvent(Tx& tx, Entity entity, int64_t entity_id, std::string_view from,
                   std::string_view to, std::string_view cause, int64_t now_ms) {
  return tx.Run(kAppendEvent)
      .Bind(Name(entity))
      .Bind(entity_id)
      .Bind(from)
      .Bind(to)
      .Bind(cause)
      .Bind(now_ms)
      .Exec();
}

template <typename S>
Status Refuse(int64_t event_id, std::optional<S> from, S to, std::string_view cause) {
  ++g_illegal_transitions;
  const std::string_view entity = Name(Machine<S>::kEntity);
  const std::string from_text = from ? std::string(Name(*from)) : "(new)";
  spdlog::warn("illegal {} transition rejected: id={} {} -> {} ({})", entity, event_id, from_text,
               Name(to), cause);
  return {Error::kIllegalTransition,
          std::string(entity) + " cannot move from " + from_text + " to " + std::string(Name(to))};
}

// The one state-move: table check, event, conditional update of the row still in `from`.
template <typename S, typename K>
Status MoveRecord(Tx& tx, const K& key, int64_t event_id, S from, S to, std::string_view cause,
                  int64_t now_ms) {
  if (!AllowedIn<S>(from, to)) return Refuse<S>(event_id, from, to, cause);
  Status s = AppendEvent(tx, Machine<S>::kEntity, event_id, Name(from), Name(to), cause, now_ms);
  if (!s.ok()) return s;
  Query up = tx.Run(Machine<S>::Update());
  s = up.Bind(Name(to)).Bind(now_ms).Bind(key).Bind(Name(from)).Exec();
  if (!s.ok()) return s;
  if (up.changes() != 1) {
    return {Error::kStateChanged, std::string(Name(Machine<S>::kEntity)) + " " +
                                      std::to_string(event_id) + " is no longer " +
                                      std::string(Name(from))};
  }
  return Status::Ok();
}

template <typename S>
Status Created(Tx& tx, int64_t id, S state, std::string_view cause, int64_t now_ms) {
  if (!AllowedIn<S>(std::nullopt, state)) return Refuse<S>(id, std::nullopt, state, cause);
  return AppendEvent(tx, Machine<S>::kEntity, id, "", Name(state), cause, now_ms);
}

}  // namespace

bool Allowed(std::optional<PacketState> from, PacketState to) {
  return AllowedIn(from, to);
}
bool Allowed(std::optional<ClaimState> from, ClaimState to) {
  return AllowedIn(from, to);
}
bool Allowed(std::optional<RefundState> from, RefundState to) {
  return AllowedIn(from, to);
}
bool Allowed(std::optional<SubsidyState> from, SubsidyState to) {
  return AllowedIn(from, to);
}

Status Move(Tx& tx, int64_t packet_id, PacketState from, PacketState to, std::string_view cause,
            int64_t now_ms) {
  return MoveRecord(tx, packet_id, packet_id, from, to, cause, now_ms);
}
Status Move(Tx& tx, int64_t claim_id, ClaimState from, ClaimState to, std::string_view cause,
            int64_t now_ms) {
  return MoveRecord(tx, claim_id, claim_id, from, to, cause, now_ms);
}
Status Move(Tx& tx, int64_t refund_id, RefundState from, RefundState to, std::string_view cause,
            int64_t now_ms) {
  return MoveRecord(tx, refund_id, refund_id, from, to, cause, now_ms);
}
Status Move(Tx& tx, const std::string& subsidy_id, int64_t packet_id, SubsidyState from,
            SubsidyState to, std::string_view cause, int64_t now_ms) {
  return MoveRecord(tx, subsidy_id, packet_id, from, to, cause, now_ms);
}

Status RecordCreated(Tx& tx, int64_t packet_id, PacketState state, std::string_view cause,
                     int64_t now_ms) {
  return Created(tx, packet_id, state, cause, now_ms);
}
Status RecordCreated(Tx& tx, int64_t claim_id, ClaimState state, std::string_view cause,
                     int64_t now_ms) {
  return Created(tx, claim_id, state, cause, now_ms);
}
Status RecordCreated(Tx& tx, int64_t refund_id, RefundState state, std::string_view cause,
                     int64_t now_ms) {
  return Created(tx, refund_id, state, cause, now_ms);
}

int64_t IllegalTransitions() {
  return g_illegal_transitions.load();
}

}  // namespace rp::ledger
