// The factories of the claim schemes named in common/claim_schemes.h.
#pragma once

#include <memory>
#include <string_view>

#include "server/core/claim_scheme.h"

namespace rp::core {

// InvalidArgument(unknown_scheme) for a name this build does not have; bad_config when the
// scheme needs Redis and deps.redis is null.
Result<std::unique_ptr<ClaimScheme>> MakeClaimScheme(std::string_view name,
                                                     const ClaimSchemeDeps& deps);

// Each scheme's factory, by name (a test checks these against common/claim_schemes.h).
std::vector<std::string_view> SchemesWithFactories();

}  // namespace rp::core
