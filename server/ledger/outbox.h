// The outbox table: work for the async service (transfers, refunds, payment checks), written in
// the same transaction as the ledger change that needs it (transactional outbox), so a task
// exists if and only if its change committed. order_no is the idempotency key the downstream
// service sees. Rows are never deleted; `done` rows are history.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "common/status.h"
#include "server/ledger/records.h"
#include "server/ledger/sql.h"

namespace rp::ledger::outbox {

// A second task of one kind for one ref, or a repeated order_no, fails UNIQUE (Conflict).
Status Enqueue(Tx& tx, const NewTask& t, int64_t now_ms);

// Leases up to max pending tasks due at now_ms: each is hidden for lease_ms and its attempt
// counted (TaskRecord::attempts includes this one). The soonest due are taken, returned in task
// order; only the lane's kinds.
Result<std::vector<TaskRecord>> Lease(Tx& tx, int64_t now_ms, int max, int64_t lease_ms,
                                      TaskLane lane = TaskLane::kAll);
// Hands back a task leased at attempts_when_leased but never tried (its worker is stopping): due
// again at now_ms, its attempt uncounted. No-op when it is done or was leased again since.
Status Unlease(Tx& tx, int64_t task_id, int64_t attempts_when_leased, int64_t now_ms);
// Marks a pending task done. false when it was done already (another worker finished it).
Result<bool> MarkDone(Tx& tx, int64_t task_id, int64_t now_ms);
// Schedules another attempt at next_attempt_ms, remembering the error; attempts is raised to at
// least `attempts` (a task delivered by a stream was not counted at lease time), and the row is
// marked unrelayed so a stream relay publishes it again when due. No-op for a done task.
Status Reschedule(Tx& tx, int64_t task_id, int64_t next_attempt_ms, const std::string& error,
                  int64_t attempts, int64_t now_ms);

// Pending tasks due at now_ms that no relay published, or published at or before
// republish_before_ms (the stream lost them), soonest first, at most limit.
Result<std::vector<TaskRecord>> DueForRelay(ReadTx& tx, int64_t now_ms, int64_t republish_before_ms,
                                            int limit, TaskLane lane = TaskLane::kAll);
// Marks a task published at now_ms, unless a worker retried it since it was read (its attempts
// moved): such a row is already reset for the relay.
Status MarkRelayed(Tx& tx, int64_t task_id, int64_t attempts_when_read, int64_t now_ms);
// Marks every pending task unpublished (a relay publishes them all again).
Status ForgetRelayed(Tx& tx);

// Pending tasks created at or before created_before_ms, by kind, and the creation time of the
// oldest pending task (0 when none).
struct Backlog {
  std::map<TaskKind, int64_t> stuck;
  int64_t oldest_created_at_ms = 0;
  int64_t pending = 0;
};
Result<Backlog> Stuck(ReadTx& tx, int64_t created_before_ms);
// Makes the tasks Stuck() counts due now instead of at their backed-off time.
Status Redrive(Tx& tx, int64_t now_ms, int64_t created_before_ms);

}  // namespace rp::ledger::outbox
