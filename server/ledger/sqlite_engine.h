// The embedded engine: SQLite in WAL mode, one writer thread with group commit (SqliteWriter)
// and a pool of read-only connections (SqliteReadPool). Everything SQLite-specific about the
// ledger — pragmas, the single writer, savepoint names — stays behind this file.
#pragma once

#include <memory>
#include <string>

#include "server/ledger/engine.h"

namespace rp::ledger {

// Opens (creating and migrating) the ledger at options.path. A read-only engine (read_only)
// refuses writes and opens no writer.
Result<std::unique_ptr<Engine>> OpenSqliteEngine(const LedgerOptions& options, bool read_only);

}  // namespace rp::ledger
