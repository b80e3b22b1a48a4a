// The shares table (claim scheme presplit): every share of a packet drawn up front, one row
// each; a claim takes one by setting its user once, conditionally.
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

#include "common/status.h"
#include "server/ledger/sql.h"

namespace rp::ledger::shares {

// Whether the packet's shares have been drawn.
Result<bool> AnyDrawn(ReadTx& tx, int64_t packet_id);
Status Insert(Tx& tx, int64_t packet_id, int64_t idx, int64_t amount_cents);
// Takes share idx for the user if it is still free: its amount, or nullopt when taken.
Result<std::optional<int64_t>> Take(Tx& tx, int64_t packet_id, int64_t idx, int64_t user_id);
// Takes the packet's first free share (lowest row): its amount, or nullopt when none is free.
Result<std::optional<int64_t>> TakeNextFree(Tx& tx, int64_t packet_id, int64_t user_id);
// The indexes of the packet's free shares, in row order.
Result<std::vector<int64_t>> FreeIndexes(ReadTx& tx, int64_t packet_id);
// Shares the packet has, and how many of them are taken.
struct Counts {
  int64_t drawn = 0;
  int64_t taken = 0;
  int64_t taken_cents = 0;
};
Result<Counts> Count(ReadTx& tx, int64_t packet_id);
// Drops a packet's shares (they no longer match its claims; they are drawn again).
Status Drop(Tx& tx, int64_t packet_id);
// Sets the amount of the share the user took (a share redrawn because it no longer fitted the
// packet's remainder), so the share row stays equal to the claim.
Status SetTakenAmount(Tx& tx, int64_t packet_id, int64_t user_id, int64_t amount_cents);

}  // namespace rp::ledger::shares
