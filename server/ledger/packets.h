// The packets table: one row per red packet. Readers assert the money invariants of every row
// they return (claimed never exceeds total) on top of the schema's CHECK constraints.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "server/ledger/records.h"
#include "server/ledger/sql.h"

namespace rp::ledger::packets {

// How a write-side read treats the row: kForUpdate holds its lock until commit on an engine
// with row locks, so two claim transactions on one packet run one after the other there.
enum class Lock { kNone, kForUpdate };

// NotFound(packet_not_found) when there is no such packet.
Result<PacketRecord> Load(ReadTx& tx, int64_t packet_id, Lock lock = Lock::kNone);

// The packet an earlier send with (sender, order_no) created, if any, with its request hash.
struct OrderMatch {
  int64_t packet_id = 0;
  std::string request_hash;
};
Result<std::optional<OrderMatch>> FindByOrder(ReadTx& tx, int64_t sender_id,
                                              std::string_view order_no);

// Inserts a row in awaiting_payment; returns its id. The caller records the creation event.
Result<int64_t> Insert(Tx& tx, const NewPacket& p);
Status SetPayOrder(Tx& tx, int64_t packet_id, std::string_view pay_order_no);
Status SetSubsidy(Tx& tx, int64_t packet_id, std::string_view subsidy_id);

// Adds `claims` claims worth amount_cents in all to an active packet's counters, if it still has
// expected_count claims: one row write for a whole batch. Conflict(state_changed) when it has
// moved on.
[[nodiscard]] Status AddClaims(Tx& tx, int64_t packet_id, int64_t claims, int64_t amount_cents,
                               int64_t expected_count, int64_t now_ms);

// Active and awaiting-payment packets whose time is up at now_ms, soonest first, at most limit.
// On a row-locking engine the rows are locked (skipping those another scanner holds), so
// several instances scanning at once split the work instead of colliding.
Result<std::vector<PacketRecord>> ListDue(ReadTx& tx, int64_t now_ms, int limit);

// Packets that can still be claimed or paid, newest first, at most limit.
Result<std::vector<int64_t>> OpenIds(ReadTx& tx, int64_t limit);

// A packet's state and remaining shares with one user's claim on it, in one read: what an
// accelerator's "sold out" is checked against. NotFound(packet_not_found).
struct WithClaim {
  PacketState state = PacketState::kActive;
  int64_t remaining_count = 0;
  std::optional<ClaimRecord> claim;
};
Result<WithClaim> LoadWithClaim(ReadTx& tx, int64_t packet_id, int64_t user_id);

}  // namespace rp::ledger::packets
