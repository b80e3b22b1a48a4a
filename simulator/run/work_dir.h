// rp-sim's work folders (one per run that starts its own system: the ledger, the logs, Redis,
// PostgreSQL, HAProxy). Each holds rp-sim.pid while its run is alive; a folder whose pid file
// names a process that is gone belongs to a run killed hard (SIGKILL, a CI timeout). Children
// rp-sim starts die with it, except PostgreSQL (it runs as another user, which makes the kernel
// forget the parent-death signal), so the next run stops a PostgreSQL left in such a folder and
// says which folders it found. Not thread-safe; call from the run's thread.
#pragma once

#include <string>
#include <vector>

#include "common/status.h"

namespace rp::sim {

// Creates $TMPDIR/rp-sim-XXXXXX (TMPDIR unset: /tmp) with rp-sim.pid in it. Internal on failure.
Result<std::string> MakeWorkDir();

// The run is over (passed or failed): removes rp-sim.pid, so the folder is not taken for a
// killed run's. The folder itself stays or goes as the caller decides.
void EndWorkDir(const std::string& dir);

// Finds folders of killed runs under $TMPDIR, stops the PostgreSQL servers left in them
// (postmaster.pid) and forgets their pid files, so each is reported once. One line per folder:
// what was found and done.
std::vector<std::string> CleanUpStaleWorkDirs();

}  // namespace rp::sim
