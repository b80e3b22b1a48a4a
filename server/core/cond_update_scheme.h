// The cond_update claim scheme: the claim decided without a lock, from the packet as last seen,
// and the packet's counters updated last and only if unchanged
// (server/core/cond_update_scheme.cpp).
#pragma once

#include <memory>

#include "server/core/claim_scheme.h"

namespace rp::core {

std::unique_ptr<ClaimScheme> MakeCondUpdateScheme(const ClaimSchemeDeps& deps);

}  // namespace rp::core
