#include "server/ledger/schema.h"

#include <string>
#include <vector>

namespace rp::ledger {
namespace {

// Migrations are append-only: never edit a shipped one, add a new number instead. One list for
// every engine: the DDL types are hooks ({pk}, {int}) each engine fills in. CHECK constraints
// restate the money invariants so that even a buggy write path cannot store an over-issued
// packet.
const std::vector<std::string>& Migrations() {
  static const std::vector<std::string> kMigrations = {
      // 1: packets, claims, payments, refunds, the transfer outbox and the event log.
      R"sql(
CREATE TABLE packets (
  packet_id      {pk},
  kind           TEXT NOT NULL CHECK (kind IN ('c2c', 'b2c')),
  sender_id      {int} NOT NULL CHECK (sender_id > 0),
  order_no       TEXT NOT NULL,
  request_hash   TEXT NOT NULL,
  pay_order_no   TEXT UNIQUE,
  status         TEXT NOT NULL,
  total_cents    {int} NOT NULL CHECK (total_cents > 0),
  count          {int} NOT NULL CHECK (count > 0),
  share_cap_cents {int} NOT NULL CHECK (share_cap_cents > 0),
  split          TEXT NOT NULL CHECK (split IN ('random', 'even')),
  audience       TEXT NOT NULL,
  video_id       TEXT NOT NULL,
  greeting       TEXT NOT NULL,
  claimed_count  {int} NOT NULL DEFAULT 0 CHECK (claimed_count >= 0 AND claimed_count <= count),
  claimed_cents  {int} NOT NULL DEFAULT 0
                 CHECK (claimed_cents >= 0 AND claimed_cents <= total_cents),
  created_at_ms  {int} NOT NULL,
  expires_at_ms  {int} NOT NULL,
  updated_at_ms  {int} NOT NULL,
  CHECK (total_cents >= count AND total_cents <= count * share_cap_cents),
  UNIQUE (sender_id, order_no)
);
CREATE INDEX packets_by_status_expiry ON packets (status, expires_at_ms);

CREATE TABLE claims (
  claim_id       {pk},
  packet_id      {int} NOT NULL REFERENCES packets (packet_id),
  user_id        {int} NOT NULL CHECK (user_id > 0),
  seq            {int} NOT NULL CHECK (seq > 0),
  amount_cents   {int} NOT NULL CHECK (amount_cents > 0),
  status         TEXT NOT NULL,
  claimed_at_ms  {int} NOT NULL,
  updated_at_ms  {int} NOT NULL,
  UNIQUE (packet_id, user_id),
  UNIQUE (packet_id, seq)
);

CREATE TABLE payments (
  pay_order_no   TEXT PRIMARY KEY,
  packet_id      {int} NOT NULL REFERENCES packets (packet_id),
  status         TEXT NOT NULL CHECK (status IN ('paid', 'failed')),
  amount_cents   {int} NOT NULL,
  received_at_ms {int} NOT NULL
);

CREATE TABLE refunds (
  refund_id      {pk},
  packet_id      {int} NOT NULL UNIQUE REFERENCES packets (packet_id),
  refund_no      TEXT NOT NULL UNIQUE,
  amount_cents   {int} NOT NULL CHECK (amount_cents > 0),
  status         TEXT NOT NULL,
  created_at_ms  {int} NOT NULL,
  updated_at_ms  {int} NOT NULL
);

-- Work for the async service, written in the same transaction as the ledger change it
-- executes (transactional outbox). order_no is the idempotency key sent to the wallet.
CREATE TABLE outbox (
  task_id        {pk},
  kind           TEXT NOT NULL CHECK (kind IN ('transfer', 'refund')),
  order_no       TEXT NOT NULL UNIQUE,
  ref_id         {int} NOT NULL,
  amount_cents   {int} NOT NULL CHECK (amount_cents > 0),
  status         TEXT NOT NULL CHECK (status IN ('pending', 'done')),
  attempts       {int} NOT NULL DEFAULT 0,
  next_attempt_ms {int} NOT NULL,
  created_at_ms  {int} NOT NULL,
  UNIQUE (kind, ref_id)
);
CREATE INDEX outbox_pending ON outbox (status, next_attempt_ms);

CREATE TABLE events (
  event_id       {pk},
  entity         TEXT NOT NULL,
  entity_id      {int} NOT NULL,
  from_state     TEXT NOT NULL,
  to_state       TEXT NOT NULL,
  cause          TEXT NOT NULL,
  at_ms          {int} NOT NULL
);
CREATE INDEX events_by_entity ON events (entity, entity_id);
)sql",
      // 2: the outbox carries what its call needs (payload), remembers the last error, and
      // gains the payment task (create + poll the pay order when no callback arrives).
      R"sql(
CREATE TABLE outbox_v2 (
  task_id         {pk},
  kind            TEXT NOT NULL CHECK (kind IN ('transfer', 'refund', 'payment')),
  order_no        TEXT NOT NULL UNIQUE,
  ref_id          {int} NOT NULL,
  amount_cents    {int} NOT NULL CHECK (amount_cents > 0),
  payload         TEXT NOT NULL DEFAULT '{}',
  status          TEXT NOT NULL CHECK (status IN ('pending', 'done')),
  attempts        {int} NOT NULL DEFAULT 0,
  next_attempt_ms {int} NOT NULL,
  last_error      TEXT NOT NULL DEFAULT '',
  created_at_ms   {int} NOT NULL,
  updated_at_ms   {int} NOT NULL DEFAULT 0,
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
  user_id        {int} NOT NULL CHECK (user_id > 0),
  round          TEXT NOT NULL,
  amount_cents   {int} NOT NULL CHECK (amount_cents > 0),
  expires_at_ms  {int} NOT NULL,
  state          TEXT NOT NULL,
  source         TEXT NOT NULL,
  packet_id      {int} UNIQUE REFERENCES packets (packet_id),
  created_at_ms  {int} NOT NULL,
  updated_at_ms  {int} NOT NULL
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
  packet_id     {int} NOT NULL REFERENCES packets (packet_id),
  idx           {int} NOT NULL CHECK (idx >= 0),
  amount_cents  {int} NOT NULL CHECK (amount_cents > 0),
  user_id       {int},
  PRIMARY KEY (packet_id, idx),
  UNIQUE (packet_id, user_id)
);
)sql",
      // 5: the outbox relay to a Redis stream (async.queue = redis_streams) remembers when it
      // published a row; 0 = not yet (or to be published again after a retry).
      R"sql(
ALTER TABLE outbox ADD COLUMN relayed_at_ms {int} NOT NULL DEFAULT 0;
CREATE INDEX outbox_relay ON outbox (status, relayed_at_ms, next_attempt_ms);
)sql",
  };
  return kMigrations;
}

const Sql kCurrentVersion("SELECT COALESCE(MAX(version), 0) FROM schema_migrations");

}  // namespace

int LatestSchemaVersion() {
  return static_cast<int>(Migrations().size());
}

Result<int> SchemaVersion(ReadTx& tx) {
  Query q = tx.Run(kCurrentVersion);
  if (!q.Next()) return q.status().ok() ? Internal("no schema version") : q.status();
  return static_cast<int>(q.Int(0));
}

Status Migrate(Connection& conn) {
  Status s = conn.ExecScript(
      "CREATE TABLE IF NOT EXISTS schema_migrations (version {int} PRIMARY KEY, "
      "applied_at_ms {int} NOT NULL DEFAULT 0)");
  if (!s.ok()) return s;
  ReadTx tx(conn);
  Result<int> current = SchemaVersion(tx);
  if (!current.ok()) return current.status();
  if (*current > LatestSchemaVersion()) {
    return Internal("database schema version " + std::to_string(*current) +
                    " is newer than this build (" + std::to_string(LatestSchemaVersion()) + ")");
  }
  for (int v = *current + 1; v <= LatestSchemaVersion(); ++v) {
    const std::string script = "{begin};" + Migrations()[static_cast<size_t>(v - 1)] +
                               "INSERT INTO schema_migrations (version) VALUES (" +
                               std::to_string(v) + ");COMMIT;";
    s = conn.ExecScript(script);
    if (!s.ok()) {
      (void)conn.ExecScript("ROLLBACK");  // Best effort: the failed script may have ended it.
      return s;
    }
  }
  return Status::Ok();
}

}  // namespace rp::ledger
