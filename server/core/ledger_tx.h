// Building blocks for ledger transactions. Every function here runs inside a LedgerWriter job
// (an open transaction + savepoint on the writer thread) and returns a Status; a non-OK status
// makes the writer roll the whole job back, so a half-written record cannot survive.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "common/sqlite.h"
#include "common/status.h"
#include "server/core/state_machine.h"

namespace rp::core {

// The packet row as the write side sees it.
struct PacketRow {
  int64_t packet_id = 0;
  std::string kind;
  int64_t sender_id = 0;
  std::string order_no;
  std::string request_hash;
  std::string pay_order_no;
  std::string status;
  int64_t total_cents = 0;
  int64_t count = 0;
  int64_t share_cap_cents = 0;  // Fixed at send time so a config change cannot strand a packet.
  std::string split;
  int64_t claimed_count = 0;
  int64_t claimed_cents = 0;
  int64_t created_at_ms = 0;
  int64_t expires_at_ms = 0;

  int64_t remaining_cents() const { return total_cents - claimed_cents; }
  int64_t remaining_count() const { return count - claimed_count; }
};

// Reads one packet; NotFound("packet_not_found") if absent. Asserts the money invariants of the
// row on read (claimed never exceeds total).
Result<PacketRow> LoadPacket(sql::Db& db, int64_t packet_id);

// Checks machine.Allows(from, to). If allowed, appends an events row and returns OK; the caller
// performs the state write itself in the same transaction. If not, logs, counts, and returns
// Conflict("illegal_transition") so the job is rolled back.
Status RecordTransition(sql::Db& db, const StateMachine& machine, int64_t entity_id,
                        std::string_view from, std::string_view to, std::string_view cause,
                        int64_t now_ms);

// Moves a packet from `from` to `to` (conditional on the row still being in `from`) and records
// the event. Conflict if the row is not in `from` or the transition is illegal.
Status MovePacket(sql::Db& db, int64_t packet_id, std::string_view from, std::string_view to,
                  std::string_view cause, int64_t now_ms);

// Queues work for the async service in the current transaction (transactional outbox): the
// task exists if and only if the ledger change that needs it committed. kind is "transfer",
// "refund" or "payment"; payload is a JSON object with what the call needs.
Status EnqueueTask(sql::Db& db, std::string_view kind, std::string_view order_no, int64_t ref_id,
                   int64_t amount_cents, std::string_view payload, int64_t now_ms);

// Orders the refund of `amount_cents` (> 0) of a packet in the current transaction: a refunds row
// in refund_pending and its outbox task (to the payer's pay order, or for B2C back to the
// subsidy's round budget). The packet's own state change is the caller's. A second refund of
// one packet fails the UNIQUE refund number (Internal): a packet is refunded at most once.
Status OrderRefund(sql::Db& db, int64_t packet_id, int64_t amount_cents,
                   const std::string& subsidy_id, std::string_view cause, int64_t now_ms);

// Transfer order number for a claim, and refund number for a packet: stable, unique, and the
// idempotency keys the wallet sees.
std::string TransferNo(int64_t claim_id);
std::string RefundNo(int64_t packet_id);
std::string PayOrderNo(int64_t packet_id);

}  // namespace rp::core
