// The ledger engines this project has, by name: the one list every program validates against
// (rp-server's ledger.engine and --ledger, rp-sim's system.ledger and --ledger, rp-bench's
// --ledger). The server opens each in server/ledger/engine.cpp.
#pragma once

#include <array>
#include <string>
#include <string_view>
#include <vector>

namespace rp {

struct LedgerEngineInfo {
  std::string_view name;
  bool shared;  // Several rp-server instances may use one ledger of this engine.
  std::string_view summary;
};

inline constexpr std::array<LedgerEngineInfo, 2> kLedgerEngines = {{
    {"sqlite", false, "embedded: one file, one process, one writer with group commit"},
    {"postgres", true, "PostgreSQL at ledger.url: several instances may share it"},
}};

inline const LedgerEngineInfo* FindLedgerEngine(std::string_view name) {
  for (const LedgerEngineInfo& e : kLedgerEngines) {
    if (e.name == name) return &e;
  }
  return nullptr;
}

inline std::vector<std::string> LedgerEngineNames() {
  std::vector<std::string> out;
  for (const LedgerEngineInfo& e : kLedgerEngines) out.emplace_back(e.name);
  return out;
}

}  // namespace rp
