// The whole ledger in one consistent read, in the shape the conservation checker takes
// (common/conservation.h): packets, claims, transfer orders, refunds, payments and subsidies.
// Used by `rp-server check`, reconciliation and the tests.
#pragma once

#include "common/conservation.h"
#include "common/status.h"
#include "server/ledger/sql.h"

namespace rp::ledger {

Status LoadSnapshot(ReadTx& tx, conservation::LedgerSnapshot* out);

}  // namespace rp::ledger
