// rp-sim's work folders (one per run that starts its own system: the ledger, the logs, Redis,
// PostgreSQL, HAProxy). Each holds rp-sim.pid while its run is alive; a folder whose pid file
// names a process that is gone belongs to a run killed hard (SIGKILL, a CI timeout). Every child
// rp-sim starts dies with it (PostgreSQL too: common/pg_process.h), so the next run only says
// which such folders it found. Nothing read from a folder is ever signalled, and only folders
// that are rp-sim's own are read at all (private, owned by this user, not symlinks): TMPDIR may
// be shared, and anyone can plant an rp-sim-* folder there. Not thread-safe; call from the run's
// thread.
#pragma once

#include <string>
#include <vector>

#include "common/status.h"

namespace rp::sim {

// Creates $TMPDIR/<prefix>-XXXXXX (TMPDIR unset: /tmp) with mkdtemp: a new folder only this user
// can enter (0700), so no other user can have planted a file or symlink in it. Internal on
// failure.
Result<std::string> MakePrivateTempDir(const std::string& prefix);

// Creates $TMPDIR/rp-sim-XXXXXX (TMPDIR unset: /tmp; 0700, mkdtemp) with rp-sim.pid in it.
// Internal on failure.
Result<std::string> MakeWorkDir();

// The run is over (passed or failed): removes rp-sim.pid, so the folder is not taken for a
// killed run's. The folder itself stays or goes as the caller decides.
void EndWorkDir(const std::string& dir);

// Finds folders of this user's killed runs under $TMPDIR and forgets their pid files, so each is
// reported once. One line per folder: what was found and where. Signals nothing.
std::vector<std::string> CleanUpStaleWorkDirs();

}  // namespace rp::sim
