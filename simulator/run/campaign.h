// The fault campaign: instead of one hand-written fault timeline, each seed draws its own — its
// claim scheme, load level and a handful of faults on non-overlapping windows per component
// (Redis outages, flushes and restarts from a stale snapshot; the server killed with SIGKILL,
// frozen with SIGSTOP, restarted under another claim scheme on the same ledger; PostgreSQL
// crashed; rp-mock latency, errors, timeouts, duplicate callbacks and outages) — and runs the
// full money verification. The drawing works on the scenario file's YAML, so a seed's scenario
// is an ordinary scenario file: `rp-sim run FILE --campaign-seed S` replays it (same timeline,
// same journeys), and a failing seed is written out as one for the regression suite.
#pragma once

#include <cstdint>
#include <string>

#include "common/status.h"
#include "simulator/run/run.h"

namespace rp::sim {

struct CampaignOptions {
  RunOptions run;          // scenario_path is the base; duration_s scales each seed's load.
  uint64_t from_seed = 1;  // Seeds from_seed .. from_seed + seeds - 1.
  int seeds = 10;
  std::string regressions_dir;  // Where failing seeds are written as scenario files.
};

// The scenario text seed `seed` draws from the base scenario file: the base's system, users
// and flows, with the seed's claim scheme (Redis on, so every scheme and every Redis fault is
// possible), load level and fault timeline, the money checks only. Deterministic: one base and
// one seed give one text. bad_scenario naming the file when the base does not read.
// replay_flags (e.g. " --duration 8") are the run flags that shaped the seed's run; the text's
// replay line repeats them, since the file keeps the base's unscaled timeline.
Result<std::string> DrawCampaignScenario(const std::string& base_path, uint64_t seed,
                                         const std::string& replay_flags = "");

// Writes the drawn text to a file of its own in dir and returns its path.
Result<std::string> WriteCampaignScenario(const std::string& base_path, uint64_t seed,
                                          const std::string& dir,
                                          const std::string& replay_flags = "");

// The flags of `run` that change what a seed's run does (--duration, --ledger, --instances),
// each with a leading space; empty when none was given.
std::string CampaignReplayFlags(const RunOptions& run);

// Runs every seed in turn (one system at a time: the machine's cores are the system's), prints
// the seed first, a one-line verdict per seed, and at the end a table of the failures with the
// command that replays each; writes campaign.json in the output folder. Exit 0 when every seed
// passed, 1 when one failed (each written to regressions_dir), 2 when none could run.
int RunCampaign(const CampaignOptions& options);

}  // namespace rp::sim
