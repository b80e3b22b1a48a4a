// The subsidies table: B2C subsidies keyed by the reward service's id, so two writers of one
// subsidy conflict instead of inserting it twice (the seed's "separate sharding key"); one
// subsidy funds at most one packet.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "server/ledger/records.h"
#include "server/ledger/sql.h"

namespace rp::ledger::subsidies {

// Records s (in state recorded) unless the ledger has it already; source is how it arrived
// ("grab_sync", "grab_async", "use").
Status InsertIfAbsent(Tx& tx, const SubsidyRecord& s, std::string_view source, int64_t now_ms);
// NotFound(subsidy_not_found).
Result<SubsidyRecord> Load(ReadTx& tx, const std::string& subsidy_id);
Status LinkPacket(Tx& tx, const std::string& subsidy_id, int64_t packet_id);
// One user's subsidies (at most limit), for the merged subsidy list.
Result<std::vector<SubsidyRecord>> OfUser(ReadTx& tx, int64_t user_id, int limit);
// Subsidies in `state` last touched at or before before_ms, oldest first, at most limit (the
// settling scanner's work).
Result<std::vector<SubsidyRecord>> InState(ReadTx& tx, SubsidyState state, int64_t before_ms,
                                           int limit);

}  // namespace rp::ledger::subsidies
