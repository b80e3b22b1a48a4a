#include "server/base/schema.h"

#include <string>
#include <vector>

namespace rp::base {
namespace {

// Migrations are append-only: never edit a shipped one, add a new number instead.
// CHECK constraints restate the money invariants so that even a buggy write path cannot store
// an over-issued packet.
const std::vector<std::string>& Migrations() {
  static const std::vector<std::string> kMigrations = {
      // 1: packets, claims, payments, refunds, the transfer outbox and the event log.
      R"sql(
CREATE TABLE packets (
  packet_id      INTEGER PRIMARY KEY,
  kind           TEXT NOT NULL CHECK (kind IN ('c2c', 'b2c')),
  sender_id      INTEGER NOT NULL CHECK (sender_id > 0),
  order_no       TEXT NOT NULL,
  request_hash   TEXT NOT NULL,
  pay_order_no   TEXT UNIQUE,
  status         TEXT NOT NULL,
  total_cents    INTEGER NOT NULL CHECK (total_cents > 0),
  count          INTEGER NOT NULL CHECK (count > 0),
  share_cap_cents INTEGER NOT NULL CHECK (share_cap_cents > 0),
  split          TEXT NOT NULL CHECK (split IN ('random', 'even')),
  audience       TEXT NOT NULL,
  video_id       TEXT NOT NULL,
  greeting       TEXT NOT NULL,
  claimed_count  INTEGER NOT NULL DEFAULT 0 CHECK (claimed_count >= 0 AND claimed_count <= count),
  claimed_cents  INTEGER NOT NULL DEFAULT 0
                 CHECK (claimed_cents >= 0 AND claimed_cents <= total_cents),
  created_at_ms  INTEGER NOT NULL,
  expires_at_ms  INTEGER NOT NULL,
  updated_at_ms  INTEGER NOT NULL,
  CHECK (total_cents >= count AND total_cents <= count * share_cap_cents),
  UNIQUE (sender_id, order_no)
);
CREATE INDEX packets_by_status_expiry ON packets (status, expires_at_ms);

CREATE TABLE claims (
  claim_id       INTEGER PRIMARY KEY,
  packet_id      INTEGER NOT NULL REFERENCES packets (packet_id),
  user_id        INTEGER NOT NULL CHECK (user_id > 0),
  seq            INTEGER NOT NULL CHECK (seq > 0),
  amount_cents   INTEGER NOT NULL CHECK (amount_cents > 0),
  status         TEXT NOT NULL,
  claimed_at_ms  INTEGER NOT NULL,
  updated_at_ms  INTEGER NOT NULL,
  UNIQUE (packet_id, user_id),
  UNIQUE (packet_id, seq)
);

CREATE TABLE payments (
  pay_order_no   TEXT PRIMARY KEY,
  packet_id      INTEGER NOT NULL REFERENCES packets (packet_id),
  status         TEXT NOT NULL CHECK (status IN ('paid', 'failed')),
  amount_cents   INTEGER NOT NULL,
  received_at_ms INTEGER NOT NULL
);

CREATE TABLE refunds (
  refund_id      INTEGER PRIMARY KEY,
  packet_id      INTEGER NOT NULL UNIQUE REFERENCES packets (packet_id),
  refund_no      TEXT NOT NULL UNIQUE,
  amount_cents   INTEGER NOT NULL CHECK (amount_cents > 0),
  status         TEXT NOT NULL,
  created_at_ms  INTEGER NOT NULL,
  updated_at_ms  INTEGER NOT NULL
);

-- Work for the async service, written in the same transaction as the ledger change it
-- executes (transactional outbox). order_no is the idempotency key sent to the wallet.
CREATE TABLE outbox (
  task_id        INTEGER PRIMARY KEY,
  kind           TEXT NOT NULL CHECK (kind IN ('transfer', 'refund')),
  order_no       TEXT NOT NULL UNIQUE,
  ref_id         INTEGER NOT NULL,
  amount_cents   INTEGER NOT NULL CHECK (amount_cents > 0),
  status         TEXT NOT NULL CHECK (status IN ('pending', 'done')),
  attempts       INTEGER NOT NULL DEFAULT 0,
  next_attempt_ms INTEGER NOT NULL,
  created_at_ms  INTEGER NOT NULL,
  UNIQUE (kind, ref_id)
);
CREATE INDEX outbox_pending ON outbox (status, next_attempt_ms);

CREATE TABLE events (
  event_id       INTEGER PRIMARY KEY,
  entity         TEXT NOT NULL,
  entity_id      INTEGER NOT NULL,
  from_state     TEXT NOT NULL,
  to_state       TEXT NOT NULL,
  cause          TEXT NOT NULL,
  at_ms          INTEGER NOT NULL
);
CREATE INDEX events_by_entity ON events (entity, entity_id);
)sql",
      // 2: the outbox carries what its call needs (payload), remembers the last error, and
      // gains the payment task (create + poll the pay order when no callback arrives).
      R"sql(
CREATE TABLE outbox_v2 (
  task_id         INTEGER PRIMARY KEY,
  kind            TEXT NOT NULL CHECK (kind IN ('transfer', 'refund', 'payment')),
  order_no        TEXT NOT NULL UNIQUE,
  ref_id          INTEGER NOT NULL,
  amount_cents    INTEGER NOT NULL CHECK (amount_cents > 0),
  payload         TEXT NOT NULL DEFAULT '{}',
  status          TEXT NOT NULL CHECK (status IN ('pending', 'done')),
  attempts        INTEGER NOT NULL DEFAULT 0,
  next_attempt_ms INTEGER NOT NULL,
  last_error      TEXT NOT NULL DEFAULT '',
  created_at_ms   INTEGER NOT NULL,
  updated_at_ms   INTEGER NOT NULL DEFAULT 0,
  UNIQUE (kind, ref_id)
);
INSERT INTO outbox_v2 (task_id, kind, order_no, ref_id, amount_cents, status, attempts,
                       next_attempt_ms, created_at_ms, updated_at_ms)
  SELECT task_id, kind, order_no, ref_id, amount_cents, status, attempts, next_attempt_ms,
         created_at_ms, created_at_ms FROM outbox;
DROP TABLE outbox;
ALTER TABLE outbox_v2 RENAME TO outbox;
CREATE INDEX outbox_pending ON outbox (status, next_attempt_ms);
)sql",
      // 3: B2C subsidies. subsidy_id (the reward service's id) is the primary key: two servers
      // writing the same subsidy conflict on it instead of inserting it twice (the seed's
      // "separate sharding key"); one subsidy funds at most one packet.
      R"sql(
CREATE TABLE subsidies (
  subsidy_id     TEXT PRIMARY KEY,
  user_id        INTEGER NOT NULL CHECK (user_id > 0),
  round          TEXT NOT NULL,
  amount_cents   INTEGER NOT NULL CHECK (amount_cents > 0),
  expires_at_ms  INTEGER NOT NULL,
  state          TEXT NOT NULL,
  source         TEXT NOT NULL,
  packet_id      INTEGER UNIQUE REFERENCES packets (packet_id),
  created_at_ms  INTEGER NOT NULL,
  updated_at_ms  INTEGER NOT NULL
);
CREATE INDEX subsidies_by_user ON subsidies (user_id);
CREATE INDEX subsidies_by_state ON subsidies (state, updated_at_ms);
ALTER TABLE packets ADD COLUMN subsidy_id TEXT REFERENCES subsidies (subsidy_id);
CREATE UNIQUE INDEX packets_by_subsidy ON packets (subsidy_id) WHERE subsidy_id IS NOT NULL;
)sql",
      // 4: pre-split packets (claim scheme presplit): every share drawn up front, one row each;
      // a claim takes one (user_id set once, conditionally).
      R"sql(
CREATE TABLE shares (
  packet_id     INTEGER NOT NULL REFERENCES packets (packet_id),
  idx           INTEGER NOT NULL CHECK (idx >= 0),
  amount_cents  INTEGER NOT NULL CHECK (amount_cents > 0),
  user_id       INTEGER,
  PRIMARY KEY (packet_id, idx),
  UNIQUE (packet_id, user_id)
);
)sql",
      // 5: the outbox relay to a Redis stream (async.queue = redis_streams) remembers when it
      // published a row; 0 = not yet (or to be published again after a retry).
      R"sql(
ALTER TABLE outbox ADD COLUMN relayed_at_ms INTEGER NOT NULL DEFAULT 0;
CREATE INDEX outbox_relay ON outbox (status, relayed_at_ms, next_attempt_ms);
)sql",
  };
  return kMigrations;
}

}  // namespace

int LatestSchemaVersion() {
  return static_cast<int>(Migrations().size());
}

Status Migrate(sql::Db& db) {
  Status s = db.Exec(
      "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, "
      "applied_at_ms INTEGER NOT NULL DEFAULT (CAST((julianday('now') - 2440587.5) * 86400000 AS "
      "INTEGER)))");
  if (!s.ok()) return s;
  sql::Stmt& q = db.Prepare("SELECT COALESCE(MAX(version), 0) FROM schema_migrations");
  int64_t current = q.Step() ? q.Int(0) : 0;
  if (!q.status().ok()) return q.status();
  q.Reset();
  if (current > LatestSchemaVersion()) {
    return Internal("database schema version " + std::to_string(current) +
                    " is newer than this build (" + std::to_string(LatestSchemaVersion()) + ")");
  }
  for (int v = static_cast<int>(current) + 1; v <= LatestSchemaVersion(); ++v) {
    std::string sql = "BEGIN IMMEDIATE;" + Migrations()[static_cast<size_t>(v - 1)] +
                      "INSERT INTO schema_migrations (version) VALUES (" + std::to_string(v) +
                      ");COMMIT;";
    s = db.Exec(sql);
    if (!s.ok()) {
      (void)db.Exec("ROLLBACK");
      return s;
    }
  }
  return Status::Ok();
}

}  // namespace rp::base
