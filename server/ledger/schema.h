// The ledger schema and its numbered migrations, one list for every engine.
#pragma once

#include "common/status.h"
#include "server/ledger/sql.h"

namespace rp::ledger {

// Applies every migration newer than the database's recorded version, each in its own
// transaction, and records it in schema_migrations. Idempotent. Internal when the database is
// newer than this build. Call on the write connection before any other use.
Status Migrate(Connection& conn);

// The newest migration number this build knows.
int LatestSchemaVersion();

// The version the database records (0 for a database without migrations).
Result<int> SchemaVersion(ReadTx& tx);

}  // namespace rp::ledger
