// The fault campaign: instead of one hand-written fault timeline, each seed draws its own — its
// claim scheme, load level and a handful of faults on non-overlapping windows per component,
// from every fault its system supports (Redis outages, flushes and restarts from a stale
// snapshot; the server killed with SIGKILL, frozen with SIGSTOP, restarted under another claim
// scheme on the same ledger; with several instances one of them killed or restarted; with
// PostgreSQL the database crashed or restarted; rp-mock latency, errors, timeouts, duplicate
// callbacks and outages) — and runs the full money verification. The drawing works on the scenario
// file's YAML, so a seed's scenario is an ordinary scenario file: `rp-sim run FILE --campaign-seed
// S` replays it (same timeline, same journeys), and a failing seed is written out as one for the
// regression suite.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "common/ledger_engines.h"
#include "common/status.h"
#include "simulator/run/run.h"
#include "simulator/scenario/scenario.h"

namespace rp::sim {

struct CampaignOptions {
  RunOptions run;          // scenario_path is the base; duration_s scales each seed's load.
  uint64_t from_seed = 1;  // Seeds from_seed .. from_seed + seeds - 1.
  int seeds = 10;
  std::string regressions_dir;  // Where failing seeds are written as scenario files.
};

// What a seed's system is made of, which decides the faults it can draw: the base file's
// system.ledger and system.instances unless the run's --ledger / --instances say otherwise;
// Redis always runs (every scheme and every Redis fault is possible).
struct CampaignSystem {
  std::string ledger{kSqliteEngine};
  int instances = 1;
  bool redis = true;
};
CampaignSystem CampaignSystemOf(const Scenario& base, const RunOptions& run);

// The kinds of fault a seed on `system` draws from, each named by its first action:
// redis_stop (an outage), redis_flush, redis_snapshot (a stale restart) with Redis;
// server_kill, server_pause, server_restart (under a drawn scheme) always; instance_kill (and its
// instance_restart later) and instance_restart (one instance, gracefully) with several instances;
// db_crash and db_restart with PostgreSQL; mock_switch (and its mock_reset) always.
std::vector<std::string> DrawableFaultKinds(const CampaignSystem& system);

// What one seed drew.
struct CampaignDraw {
  std::string text;  // The scenario file.
  CampaignSystem system;
  std::vector<std::string> fault_kinds;  // In the order drawn.
};

// The scenario seed `seed` draws from the base scenario file: the base's users and flows, its
// system as `run` shapes it (CampaignSystemOf: written into the file, so the file runs as it
// is), with the seed's claim scheme, load level and fault timeline, the money checks only. The
// faults that take the server or its database away get a budget of unanswered requests over
// their window (`unanswered_max: all`). Deterministic: one base, one seed and one run shape give
// one text. bad_scenario naming the file when the base does not read. The text's replay line
// repeats run's flags that shaped the seed's run (CampaignReplayFlags), since the file keeps the
// base's unscaled timeline.
Result<CampaignDraw> DrawCampaign(const std::string& base_path, uint64_t seed,
                                  const RunOptions& run = {});
// DrawCampaign's text.
Result<std::string> DrawCampaignScenario(const std::string& base_path, uint64_t seed,
                                         const RunOptions& run = {});

// Writes the drawn text to a file of its own in dir and returns its path.
Result<std::string> WriteCampaignScenario(const std::string& base_path, uint64_t seed,
                                          const std::string& dir, const RunOptions& run = {});

// The flags of `run` that change what a seed's run does (--duration, --ledger, --instances),
// each with a leading space; empty when none was given.
std::string CampaignReplayFlags(const RunOptions& run);

// Runs every seed in turn (one system at a time: the machine's cores are the system's), prints
// the seed first, a one-line verdict per seed, and at the end a table of the failures with the
// command that replays each; writes campaign.json in the output folder. Exit 0 when every seed
// passed, 1 when one failed (each written to regressions_dir), 2 when none could run.
int RunCampaign(const CampaignOptions& options);

}  // namespace rp::sim
