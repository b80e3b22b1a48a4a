#include "server/core/scheme_registry.h"

#include <array>

#include "common/check.h"
#include "common/claim_schemes.h"
#include "server/core/cond_update_scheme.h"
#include "server/core/ledger_schemes.h"
#include "server/core/mem_lock_scheme.h"
#include "server/core/presplit_scheme.h"

namespace rp::core {
namespace {

struct Factory {
  ClaimSchemeId id;
  std::unique_ptr<ClaimScheme> (*make)(const ClaimSchemeDeps&);
};

// One factory per row of common/claim_schemes.h, in its order: a scheme added there without a
// factory here (or the other way round) does not compile.
constexpr std::array<Factory, kClaimSchemes.size()> kFactories = {{
    {ClaimSchemeId::kDbLock, &MakeDbLockScheme},
    {ClaimSchemeId::kBatched, &MakeBatchedScheme},
    {ClaimSchemeId::kMemLock, &MakeMemLockScheme},
    {ClaimSchemeId::kPresplit, &MakePresplitScheme},
    {ClaimSchemeId::kCondUpdate, &MakeCondUpdateScheme},
}};

constexpr bool FactoriesMatchTheSchemeList() {
  for (size_t i = 0; i < kFactories.size(); ++i) {
    if (kFactories[i].id != kClaimSchemes[i].id || kFactories[i].make == nullptr) return false;
  }
  return true;
}
static_assert(FactoriesMatchTheSchemeList(),
              "kFactories must have one row per kClaimSchemes row, in the same order");

}  // namespace

Result<std::unique_ptr<ClaimScheme>> MakeClaimScheme(std::string_view name,
                                                     const ClaimSchemeDeps& deps) {
  RP_CHECK(deps.ledger != nullptr && deps.clock != nullptr);
  const ClaimSchemeInfo* info = FindClaimScheme(name);
  if (info == nullptr) {
    return Status(Error::kUnknownScheme, "unknown claim scheme " + std::string(name));
  }
  if (info->needs_redis && deps.redis == nullptr) {
    return Status(Error::kBadConfig, "claim scheme " + std::string(name) + " needs redis.url");
  }
  for (const Factory& f : kFactories) {
    if (SchemeName(f.id) == name) return f.make(deps);
  }
  return Status(Error::kUnknownScheme, "this build has no factory for scheme " + std::string(name));
}

std::vector<std::string_view> SchemesWithFactories() {
  std::vector<std::string_view> out;
  for (const Factory& f : kFactories) out.push_back(SchemeName(f.id));
  return out;
}

}  // namespace rp::core
