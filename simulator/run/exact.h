// rp-sim --exact: the claim path's cost counted, not timed. CPU time and throughput are noisy on
// a shared 2-core machine and these VMs have no hardware counters, so rp-server runs under
// valgrind's callgrind, which counts the instructions it executes: the same binary, input and
// seed give the same count, whatever else the machine does.
//
// The slice: the scenario's system and hot flow, ONE connection, exactly N claims back to back
// (a closed loop, so no two claims ever share a batch or a commit). The fixtures are made on the
// server as usual; then it restarts (same port, same ledger) under callgrind, with collection
// off except inside the functions that handle an HTTP request and run the ledger's (and Redis's)
// batches (kCallgrindToggles), and without its async workers and expiry scans, whose timing
// would decide what they run. The counters are zeroed before the slice and dumped after it, so
// only the N claims count. Then the server restarts as usual, with its workers, and the money of
// the run is verified as in any run.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "common/status.h"
#include "simulator/engine/load_engine.h"
#include "simulator/results/results.h"
#include "simulator/run/run.h"
#include "simulator/system/system.h"
#include "simulator/verify/verify.h"

namespace rp::sim {

// The functions callgrind counts inside (--toggle-collect). None calls another of them, so no
// toggle switches collection off inside another. Each is [[gnu::noinline]] in the server: an
// inlined copy has no entry for callgrind to see.
extern const std::vector<std::string> kCallgrindToggles;

// The path of the executable `name` in the first directory of $PATH that holds one; empty when
// none does.
std::string FindInPath(const std::string& name);

// Whether --exact can run this (overridden) scenario: no --target, valgrind installed, the
// sqlite ledger, one instance, the hot flow alone with shares for every claim. BadScenario
// (or BadConfig) saying what to change otherwise.
[[nodiscard]] Status CheckExactFits(const RunOptions& options, const Scenario& scenario,
                                    const std::string& valgrind_path);

// The scenario made into the slice: one connection, one user claiming back to back, `claims`
// journeys, no faults, no checks of its own, no expiry scans.
void ShapeExactSlice(Scenario& scenario, int64_t claims);

// valgrind and its options, to put before rp-server's command line; out_file receives the counts.
std::vector<std::string> CallgrindCommand(const std::string& valgrind_path,
                                          const std::string& out_file);

// How rp-server starts for the slice: under callgrind (counts in work_dir/callgrind.out), without
// its async workers, with minutes to start and stop.
ServerLaunch ExactServerLaunch(const std::string& valgrind_path, const std::string& work_dir);

// The Ir total of a callgrind output file's text: its "totals:" line, else its "summary:" line
// (first event). BadConfig when neither is there or it is not a number.
[[nodiscard]] Result<uint64_t> ParseCallgrindTotals(const std::string& text);

// The slice on a system started as usual: fixtures, a restart under callgrind, zeroed counters,
// the N claims, dumped counters (copied to out_dir/callgrind.out), a restart as usual, the
// verification.
// Fills load, verification and report (report->exact included). Returns 0, or 2 when the run
// could not be made.
int ExecuteExact(const RunOptions& options, const Scenario& scenario, const Target& target,
                 SystemUnderTest* system, const std::string& out_dir, LoadOutcome* load,
                 VerificationReport* verification, RunReport* report);

}  // namespace rp::sim
