// The ledger schema and its numbered migrations. The ledger (SQLite) is the source of truth for
// every money movement; everything else in the server is an accelerator.
#pragma once

#include "common/sqlite.h"
#include "common/status.h"

namespace rp::base {

// Applies every migration newer than the database's recorded version, each in its own
// transaction, and records it in schema_migrations. Idempotent. Call on the writer connection
// before any other use.
Status Migrate(sql::Db& db);

// The newest migration number this build knows.
int LatestSchemaVersion();

}  // namespace rp::base
