// The client/server engine: PostgreSQL through libpq. Every write job is a transaction of its
// own on one of ledger.pool_size connections (one worker thread each), so concurrent claims on
// one packet really queue on its row lock (SELECT ... FOR UPDATE) while holding a connection —
// the seed's deployment. Group commit is PostgreSQL's own (commit_delay / commit_siblings on
// the server). Transactions the server aborts to resolve a race (serialization failure,
// deadlock) or that waited past lock_timeout are retried, at most ledger.retries_max times, and
// counted; a connection that broke is dialled again. Reads run on their own connections in
// REPEATABLE READ, READ ONLY transactions: one snapshot each.
//
// Bounded time, whatever the server does (crash, restart, freeze, partition): every wait on
// the server is polled with a client-side deadline — a write's ledger.write_deadline_ms from
// when it was queued, ledger.call_deadline_ms per round trip of a read or a connect — and a
// connection whose deadline passed is closed (the server then stops its statement). A write
// still queued at its deadline is answered by a scanner thread (rp-pg-deadline), so a frozen
// server holding every connection still leaves nobody unanswered. After a failed reconnect,
// jobs on broken connections fail at once for a short backoff instead of each dialling in turn.
// A read that got no answer at all on a pooled connection (the server restarted meanwhile) is
// run once more on a fresh connection.
//
// Several rp-server processes may share one database: migrations take an advisory lock, leases
// use SKIP LOCKED, and every state move is conditional on the state it read.
#pragma once

#include <memory>

#include "server/ledger/engine.h"

namespace rp::ledger {

// Connects to options.url, migrates (under an advisory lock) and starts the workers.
Result<std::unique_ptr<Engine>> OpenPgEngine(const LedgerOptions& options, bool read_only);

}  // namespace rp::ledger
