// The claim schemes that use the ledger alone: db_lock (the seed's pessimistic lock: one write
// transaction per claim holding the packet's row lock until commit) and batched (many claims of
// one packet per write transaction). The Redis schemes have headers of their own.
#pragma once

#include <memory>

#include "server/core/claim_scheme.h"

namespace rp::core {

std::unique_ptr<ClaimScheme> MakeDbLockScheme(const ClaimSchemeDeps& deps);
std::unique_ptr<ClaimScheme> MakeBatchedScheme(const ClaimSchemeDeps& deps);

}  // namespace rp::core
