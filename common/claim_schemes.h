// The claim schemes this project has, by name: the one list every program validates against
// (rp-server's config and flags, rp-sim's scenario files, rp-bench). The server's factory for
// each (server/core/scheme_registry.cpp) is checked against this list by a test.
#pragma once

#include <array>
#include <string>
#include <string_view>
#include <vector>

namespace rp {

struct ClaimSchemeInfo {
  std::string_view name;
  bool needs_redis;
  std::string_view summary;
};

inline constexpr std::array<ClaimSchemeInfo, 4> kClaimSchemes = {{
    {"db_lock", false, "one ledger transaction per claim, holding the packet's row lock"},
    {"batched", false, "many claims of one packet in one ledger transaction"},
    {"mem_lock", true,
     "Redis remaining-count limiter, then a per-packet in-process lock before the ledger"},
    {"presplit", true, "shares drawn up front; claims pop share indexes from Redis"},
}};

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
