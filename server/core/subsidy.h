// B2C subsidies in the ledger: recording a grabbed subsidy (sync/async modes), sending a packet
// funded by one (the ledger side of the TCC with the reward service), and settling it.
//
// The send is a TCC (try-confirm-cancel) across the ledger and the reward service:
//   1. BeginB2cSendTx: the subsidy is written to the ledger first (idempotent on subsidy_id),
//      linked to a new packet (awaiting_payment), subsidy -> trying.
//   2. The caller asks the reward service to TRY (freeze) it for tx "PKT<packet_id>".
//   3. SettleB2cTx: accepted -> packet active, subsidy confirming (the caller then CONFIRMs and
//      calls ConfirmedSubsidyTx -> used); refused -> packet closed, subsidy released.
// A crash between steps leaves `trying` or `confirming` rows, which B2cService's settling
// scanner re-drives with the same idempotent calls. All functions run inside a ledger write job.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "common/status.h"
#include "server/core/send.h"
#include "server/ledger/records.h"
#include "server/ledger/sql.h"

namespace rp::core {

// What a verified subsidy token says.
struct SubsidyGrant {
  std::string subsidy_id;
  int64_t user_id = 0;
  std::string round;
  int64_t amount_cents = 0;
  int64_t expires_at_ms = 0;
};

// Records a grabbed subsidy (state recorded) unless the ledger has it already. source is
// "grab_sync", "grab_async" or "use".
Status RecordSubsidyTx(ledger::Tx& tx, const SubsidyGrant& grant, std::string_view source,
                       int64_t now_ms);

struct B2cSend {
  SendOutcome send;
  ledger::SubsidyState subsidy_state = ledger::SubsidyState::kRecorded;  // After this transaction.
};

// Step 1. Replays return the original packet. Errors: Conflict(subsidy_used) when the subsidy
// funds another packet; InvalidArgument(amount_mismatch) when total_cents differs from the
// subsidy; PermissionDenied(foreign_subsidy) when the subsidy is not the sender's.
Status BeginB2cSendTx(ledger::Tx& tx, const SendRequest& req, const SubsidyGrant& grant,
                      int64_t sender_id, int64_t share_cap_cents, int64_t now_ms, int64_t ttl_ms,
                      B2cSend* out);

// Step 3. Idempotent: settling a packet already settled the same way is OK.
Status SettleB2cTx(ledger::Tx& tx, int64_t packet_id, bool accepted, int64_t now_ms,
                   ledger::PacketRecord* out);

// After the reward service confirmed: confirming -> used. Idempotent.
Status ConfirmedSubsidyTx(ledger::Tx& tx, const std::string& subsidy_id, int64_t now_ms);

}  // namespace rp::core
