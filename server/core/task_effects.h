// What the async service's work means for the ledger's state machines, decided here in core so
// the task queues stay transport only. Each function runs in one write transaction that also
// updates the task's outbox row, so a task's state and its entity's never disagree.
#pragma once

#include <cstdint>
#include <string>

#include "common/status.h"
#include "server/ledger/records.h"
#include "server/ledger/sql.h"

namespace rp::core {

// The task's downstream effect happened: the task is done, a transfer's claim is transferred, a
// refund is refunded and its packet with it. Idempotent: completing a done task changes nothing.
Status CompleteTaskTx(ledger::Tx& tx, const ledger::TaskRecord& task, int64_t now_ms);

// An attempt failed: try again at next_attempt_ms. From failed_after attempts on, the task's
// entity is marked failed (transfer_failed / refund_failed) but the task stays and keeps being
// retried: nothing is ever dropped.
Status RetryTaskTx(ledger::Tx& tx, const ledger::TaskRecord& task, int64_t next_attempt_ms,
                   const std::string& error, int64_t failed_after, int64_t now_ms);

}  // namespace rp::core
