// The claim schemes this project has, by name: the one list every program validates against
// (rp-server's config and flags, rp-sim's scenario files, rp-bench). The server's factory for
// each (server/core/scheme_registry.cpp) is checked against this list by a test.
#pragma once

#include <array>
#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "common/enum_names.h"

namespace rp {

enum class ClaimSchemeId : size_t { kDbLock, kBatched, kMemLock, kPresplit, kCondUpdate };

struct ClaimSchemeInfo {
  ClaimSchemeId id;  // Its row's index: the table is in enum order.
  std::string_view name;
  bool needs_redis;
  std::string_view summary;
};

inline constexpr std::array<ClaimSchemeInfo, 5> kClaimSchemes = {{
    {ClaimSchemeId::kDbLock, "db_lock", false,
     "one ledger transaction per claim, holding the packet's row lock"},
    {ClaimSchemeId::kBatched, "batched", false,
     "many claims of one packet in one ledger transaction"},
    {ClaimSchemeId::kMemLock, "mem_lock", true,
     "Redis remaining-count limiter, then a per-packet in-process lock before the ledger"},
    {ClaimSchemeId::kPresplit, "presplit", true,
     "shares drawn up front; claims pop share indexes from Redis"},
    {ClaimSchemeId::kCondUpdate, "cond_update", false,
     "no lock while deciding; the packet's counters updated last, only if unchanged"},
}};

static_assert(RowsInEnumOrder(kClaimSchemes), "kClaimSchemes rows must be in ClaimSchemeId order");

// A scheme's name, for code that names one (a default, a scheme's own name()): never a literal.
constexpr std::string_view SchemeName(ClaimSchemeId id) {
  return kClaimSchemes[static_cast<size_t>(id)].name;
}

inline const ClaimSchemeInfo* FindClaimScheme(std::string_view name) {
  for (const ClaimSchemeInfo& s : kClaimSchemes) {
    if (s.name == name) return &s;
  }
  return nullptr;
}

inline std::vector<std::string> ClaimSchemeNames() {
  std::vector<std::string> out;
  for (const ClaimSchemeInfo& s : kClaimSchemes) out.emplace_back(s.name);
  return out;
}

}  // namespace rp
