// The three things rp-sim does with a scenario:
//   RunScenario — one run: start the system (or use --target), measure the /healthz ceiling,
//     prepare fixtures, drive the load with the fault timeline and the metrics scraper beside
//     it, verify the money, evaluate the checks and write a results folder.
//   RunCompare  — one run per claim scheme, then a side-by-side table (compare.md/.json).
//   RunRegress  — the runs of a baseline's schemes again, each judged against the baseline by
//     the gate (gate.h: cost per claim won, and throughput where a rank test says it is real);
//     refuses (2) a baseline made by another kind of build.
// Exit codes: 0 all passed, 1 a check, the verification or the regression gate failed,
// 2 the run could not be made (bad scenario, a process did not start, ...).
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "simulator/run/gate.h"

namespace rp::sim {

struct Scenario;
struct LoadOutcome;
class ClientMetrics;

struct RunOptions {
  std::string scenario_path;
  std::string target;        // http://HOST:PORT of an existing server; empty: start our own.
  std::string mocks_url;     // With --target: the rp-mock that server uses (enables wallet checks).
  uint64_t seed = 0;         // 0: the scenario's seed.
  int64_t duration_s = 0;    // 0: the scenario's own length; else phases and faults scaled to it.
  std::string out_dir;       // Empty: results/<scenario>-<time>-<scheme>.
  std::string claim_scheme;  // Empty: the scenario's.
  std::string ledger;        // Empty: the scenario's system.ledger (sqlite | postgres).
  int instances = 0;         // 0: the scenario's system.instances.
  bool quiet = false;        // No progress lines.
  bool brief = false;        // Nothing on stdout but errors (a campaign prints one line a run).
  uint64_t campaign_seed = 0;  // Non-zero: run the scenario this campaign seed draws from it.
  std::string junit_path;      // Non-empty: a JUnit XML file of the checks and the verification.
  std::string metrics_listen;  // Non-empty: serve rp-sim's own /metrics here (PORT, HOST:PORT).
  bool pg_stats = false;       // PostgreSQL's per-statement figures into pg_statements.csv.
  std::string bin_dir;         // Where rp-server and rp-mock are; empty: next to rp-sim.
  std::vector<std::string> server_env;  // More "K=V" environment for rp-server (regress --against).
  // A fixed slice of exact_claims claims on one connection, rp-server under valgrind's callgrind,
  // counted in instructions instead of the scenario's timed load (simulator/run/exact.h).
  bool exact = false;
  int64_t exact_claims = 2000;  // Under a minute per scheme under callgrind here.
  // Where each run's requests, arrivals and drops are mirrored (may be null; not owned): the
  // metrics served on metrics_listen, started by main() for the whole process.
  ClientMetrics* client_metrics = nullptr;
  // Internal hooks (rp-sim capacity): edit the scenario after it is read and the overrides are
  // applied; see the load and the results folder once it is written.
  std::function<void(Scenario&)> edit_scenario;
  std::function<void(const Scenario&, const LoadOutcome&, const std::string& out_dir)> after_run;
};

// `rp-sim capacity`'s plan (its analysis: capacity.h).
struct CapacityOptions {
  RunOptions run;
  double start_rate = 50;  // Journeys per second of the first step.
  double factor = 1.5;
  int steps = 8;
  int64_t step_s = 5;
  double slo_p99_ms = 200;
  double error_percent_max = 1;
  double headroom = 0.9;  // Limits at this share of the throughput at the knee.
};

int RunScenario(const RunOptions& options);

// Splits "http://HOST:PORT". False (outputs untouched) when the URL does not look like that or
// the port is not a positive number.
bool ParseHttpUrl(const std::string& url, std::string* host, int* port);

struct CompareOptions {
  RunOptions run;
  std::vector<std::string> schemes;
  int repeats = 3;        // Runs per scheme, in rotating order; medians and ranges reported.
  bool saturate = false;  // Closed model, one user per connection: what each scheme can carry.
};
int RunCompare(const CompareOptions& options);

struct RegressOptions {
  RunOptions run;
  std::string baseline_dir;  // Holds compare.json written by RunCompare.
  // Instead of a baseline: the bin folder of another build (its rp-server and rp-mock), run
  // interleaved with this one, scheme by scheme, alternating which goes first.
  std::string against_bin_dir;
  std::vector<std::string> server_env;  // With against_bin_dir: "K=V" for this build's servers.
  std::vector<std::string> schemes;     // Empty: every scheme in the baseline.
  int repeats = 3;                      // Runs per scheme; the median is judged (gate.h).
  GateOptions gate;
};
int RunRegress(const RegressOptions& options);

// `rp-sim capacity`: the full-chain load (the scenario's flows, mock switches and system; its
// phases, faults and checks replaced) stepped up by `factor` every step_s seconds until a route
// breaks the SLO; then the knee per route and a limits.yaml sized from it.
int RunCapacity(const CapacityOptions& options);

}  // namespace rp::sim

namespace rp::sim {

// `rp-sim load`: the load engine alone (HttpPool, the same code path the journeys use) sending one
// GET in a closed loop per connection, for measuring the simulator against wrk (./rp bench).
struct RawLoadOptions {
  std::string target;  // http://HOST:PORT
  std::string path = "/healthz";
  int connections = 64;
  int64_t duration_s = 5;
};
int RunRawLoad(const RawLoadOptions& options);

}  // namespace rp::sim
