// What a run's work cost, read at the load's first and last instant: the CPU time the kernel
// charged to each part of the system under test (/proc, when rp-sim started the system) and the
// server's work counters (ledger commits and statements, Redis round trips, row-lock and pool
// waits) summed over every instance's /metrics. Divided by the claims the load won, they are
// what the claim-scheme gate judges: unlike claims/s, they do not shrink or grow with what else
// the machine runs. Snapshots are taken on the calling thread (blocking, ~ms); pure otherwise.
#pragma once

#include <sys/types.h>

#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "simulator/system/system.h"

namespace rp::sim {

struct CostSnapshot {
  SystemCpu cpu;                           // Empty parts with --target (not ours to read).
  std::map<std::string, double> counters;  // Series -> sum over labels and instances.
  int instances_read = 0;                  // Instances whose /metrics answered.
  int instances = 0;
};

// The series a snapshot sums (a subset of what rp-server exposes).
const std::vector<std::string>& CostSeries();

// Reads the system's CPU (system may be null: --target) and every port's /metrics (2 s each at
// most; an instance that does not answer is left out and counted).
CostSnapshot TakeCostSnapshot(const SystemUnderTest* system, const std::string& host,
                              const std::vector<int>& ports);

// summary.json's "cost": the differences between two snapshots over claims_won (201 answers).
// A figure that cannot be trusted is null, with the reason in "incomplete" (a process that
// restarted between the snapshots, an instance that did not answer, no claim won).
nlohmann::json CostJson(const CostSnapshot& start, const CostSnapshot& end, double claims_won,
                        double load_seconds);

// Adds to `cost` what one /healthz answer cost rp-server (the median of the samples, in µs) and
// the claim's CPU in those units ("cpu_per_claim_in_healthz": a claim costs as much as N /healthz
// answers). Both move with the machine's speed, so their ratio moves less than either.
void AddHealthzReference(const std::vector<double>& healthz_cpu_us_per_request,
                         nlohmann::json* cost);

// The gated figures of "cost", in the order reports list them: key, unit, what it counts.
struct CostFigure {
  const char* key;
  const char* unit;
  const char* what;
};
const std::vector<CostFigure>& CostFigures();

}  // namespace rp::sim
