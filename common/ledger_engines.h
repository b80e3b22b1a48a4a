// The ledger engines this project has, by name: the one list every program validates against
// (rp-server's ledger.engine and --ledger, rp-sim's system.ledger and --ledger, rp-bench's
// --ledger). The server opens each in server/ledger/engine.cpp.
#pragma once

#include <array>
#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "common/enum_names.h"

namespace rp {

enum class LedgerEngine : size_t { kSqlite, kPostgres };

struct LedgerEngineInfo {
  LedgerEngine id;  // Its row's index: the table is in enum order.
  std::string_view name;
  bool shared;  // Several rp-server instances may use one ledger of this engine.
  std::string_view summary;
};

inline constexpr std::array<LedgerEngineInfo, 2> kLedgerEngines = {{
    {LedgerEngine::kSqlite, "sqlite", false,
     "embedded: one file, one process, one writer with group commit"},
    {LedgerEngine::kPostgres, "postgres", true,
     "PostgreSQL at ledger.url: several instances may share it"},
}};

static_assert(RowsInEnumOrder(kLedgerEngines), "kLedgerEngines rows must be in LedgerEngine order");

// The name an engine goes by in configuration, flags, scenario files and results; code names an
// engine through these, never by a literal.
inline constexpr std::string_view kSqliteEngine =
    kLedgerEngines[static_cast<size_t>(LedgerEngine::kSqlite)].name;
inline constexpr std::string_view kPostgresEngine =
    kLedgerEngines[static_cast<size_t>(LedgerEngine::kPostgres)].name;

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
