#include "server/ledger/tamper.h"

#include <libpq-fe.h>

#include "common/ledger_engines.h"
#include "common/sqlite/sqlite.h"

namespace rp::ledger {
namespace {

const char* ScriptOf(Corruption what) {
  switch (what) {
    case Corruption::kMissingTransfer:
      return "INSERT INTO claims VALUES (99, 1, 77, 4, 1, 'transferred', 0, 0);"
             "INSERT INTO outbox (kind, order_no, ref_id, amount_cents, status, next_attempt_ms, "
             "created_at_ms) VALUES ('transfer', 'TR99', 99, 1, 'done', 0, 0);"
             "UPDATE packets SET count = 4, total_cents = 601, claimed_count = 4, "
             "claimed_cents = 601 WHERE packet_id = 1;";
    case Corruption::kTransferAmountMismatch:
      return "UPDATE claims SET amount_cents = amount_cents + 1 WHERE claim_id = 1;"
             "UPDATE outbox SET amount_cents = amount_cents + 1 WHERE order_no = 'TR1';";
    case Corruption::kClaimSumMismatch:
      return "UPDATE packets SET claimed_cents = claimed_cents - 1 WHERE packet_id = 1;";
    case Corruption::kOrphanPayment:
      return "DELETE FROM payments WHERE packet_id = 1;"
             "UPDATE packets SET status = 'closed' WHERE packet_id = 1;"
             "DELETE FROM claims WHERE packet_id = 1;"
             "DELETE FROM outbox WHERE kind = 'transfer' AND ref_id IN (1, 2, 3);"
             "UPDATE packets SET claimed_count = 0, claimed_cents = 0 WHERE packet_id = 1;";
    case Corruption::kRefundAmountMismatch:
      return "UPDATE refunds SET amount_cents = amount_cents - 1;";
    case Corruption::kOrphanRefund:
      return "UPDATE refunds SET refund_no = 'RFX';";
    case Corruption::kDoubleClaim:
      // Without its UNIQUE constraints, so a user can hold two claims.
      return "CREATE TABLE c2 AS SELECT * FROM claims; DROP TABLE claims {cascade};"
             "ALTER TABLE c2 RENAME TO claims;"
             "INSERT INTO claims SELECT 98, packet_id, user_id, 9, amount_cents, status, "
             "claimed_at_ms, updated_at_ms FROM claims WHERE claim_id = 1;";
    case Corruption::kSubsidyAmountMismatch:
      return "UPDATE subsidies SET amount_cents = 299;";
    case Corruption::kUnknownSubsidy:
      return "UPDATE subsidies SET subsidy_id = 'SUB-forged';";
    case Corruption::kB2cAmountMismatch:
      return "UPDATE packets SET total_cents = 301 WHERE kind = 'b2c';";
  }
  return "";
}

std::string ScriptFor(Corruption what, bool postgres) {
  std::string script = ScriptOf(what);
  const size_t at = script.find("{cascade}");
  if (at != std::string::npos) script.replace(at, 9, postgres ? "CASCADE" : "");
  return script;
}

// PostgreSQL cannot switch CHECK constraints off as SQLite can: drop them; a replica session
// role keeps foreign-key triggers from firing.
constexpr const char* kPgConstraintsOff =
    "SET session_replication_role = replica;"
    "DO $$ DECLARE r record; BEGIN FOR r IN SELECT conrelid::regclass AS t, conname "
    "FROM pg_constraint WHERE contype = 'c' AND connamespace = 'public'::regnamespace LOOP "
    "EXECUTE format('ALTER TABLE %s DROP CONSTRAINT %I', r.t, r.conname); END LOOP; END $$;";

Status CorruptPostgres(const std::string& url, Corruption what) {
  PGconn* conn = PQconnectdb(url.c_str());
  Status s = Status::Ok();
  if (PQstatus(conn) != CONNECTION_OK) {
    s = Status(Error::kConnectFailed, PQerrorMessage(conn));
  } else {
    // One simple-query string: the statements run in one implicit transaction.
    PGresult* r = PQexec(conn, (std::string(kPgConstraintsOff) + ScriptFor(what, true)).c_str());
    if (PQresultStatus(r) != PGRES_COMMAND_OK) {
      s = Status(Error::kInternal, PQresultErrorMessage(r));
    }
    PQclear(r);
  }
  PQfinish(conn);
  return s;
}

}  // namespace

Status Corrupt(const LedgerOptions& ledger, Corruption what) {
  if (ledger.engine == kPostgresEngine) return CorruptPostgres(ledger.url, what);
  Result<std::unique_ptr<sql::Db>> db = sql::Db::Open(ledger.path, sql::OpenMode{});
  if (!db.ok()) return db.status();
  Status s = (*db)->Exec("PRAGMA foreign_keys=OFF; PRAGMA ignore_check_constraints=ON;");
  if (!s.ok()) return s;
  return (*db)->Exec(ScriptFor(what, false));
}

}  // namespace rp::ledger
