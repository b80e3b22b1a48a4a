// State machines as transition tables, and the one primitive that moves a record through them.
// Every state change of a packet, claim, refund or subsidy is a Move(): it consults the table,
// writes an events row, and updates the record only if it is still in the state the caller
// read — in the caller's transaction, so a rejected or lost move leaves nothing behind.
//
//   packet:  (new) → awaiting_payment ─paid→ active ─last share→ finished
//                          │                  └─ttl→ expired ─refund paid→ refunded
//                          └─failed / unpaid at ttl→ closed ─paid late→ expired (refund of all)
//   claim:   (new) → transfer_pending → transferred;  transfer_pending → transfer_failed →
//   transferred refund:  (new) → refund_pending → refunded;       refund_pending → refund_failed →
//   refunded subsidy: (new) → recorded → trying → confirming → used;  trying → released
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "common/status.h"
#include "server/ledger/records.h"
#include "server/ledger/sql.h"

namespace rp::ledger {

// Whether the table allows from -> to; from = nullopt is creation.
bool Allowed(std::optional<PacketState> from, PacketState to);
bool Allowed(std::optional<ClaimState> from, ClaimState to);
bool Allowed(std::optional<RefundState> from, RefundState to);
bool Allowed(std::optional<SubsidyState> from, SubsidyState to);

// Moves a record from `from` to `to`. Conflict(illegal_transition) — logged and counted — when
// the table forbids it; Conflict(state_changed) when the record is no longer in `from`; a
// storage error otherwise. On any error the caller's job must fail (it is rolled back).
Status Move(Tx& tx, int64_t packet_id, PacketState from, PacketState to, std::string_view cause,
            int64_t now_ms);
Status Move(Tx& tx, int64_t claim_id, ClaimState from, ClaimState to, std::string_view cause,
            int64_t now_ms);
Status Move(Tx& tx, int64_t refund_id, RefundState from, RefundState to, std::string_view cause,
            int64_t now_ms);
// Subsidies are keyed by text; their events are filed under the packet they fund.
Status Move(Tx& tx, const std::string& subsidy_id, int64_t packet_id, SubsidyState from,
            SubsidyState to, std::string_view cause, int64_t now_ms);

// The events row for a record just inserted in its first state (the caller inserted it).
Status RecordCreated(Tx& tx, int64_t packet_id, PacketState state, std::string_view cause,
                     int64_t now_ms);
Status RecordCreated(Tx& tx, int64_t claim_id, ClaimState state, std::string_view cause,
                     int64_t now_ms);
Status RecordCreated(Tx& tx, int64_t refund_id, RefundState state, std::string_view cause,
                     int64_t now_ms);

// Transitions rejected since the process started (exported as a metric).
int64_t IllegalTransitions();

}  // namespace rp::ledger
