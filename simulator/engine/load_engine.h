// LoadEngine: drives a scenario's load phases against one server on the calling thread (one
// Boost.Asio io_context: thousands of concurrent journeys on one core, the other core is the
// server's). Open model: journeys arrive on a seeded Poisson process whose rate follows each
// phase's shape, whether or not earlier ones finished — a stalled server shows up as latency, not
// as a politely slower client. Closed model: `users` virtual users each run journeys back to
// back with think time. Arrivals beyond journeys_in_flight_max are dropped and counted. When the
// last phase ends, journeys in flight get request_timeout_ms plus the payment wait to finish.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "common/status.h"
#include "simulator/engine/journeys.h"
#include "simulator/engine/observed.h"
#include "simulator/scenario/scenario.h"
#include "simulator/stats/run_stats.h"

namespace rp::sim {

// One second of live progress, reported once a second (simulator/run/progress_line.h folds the
// seconds between two printed lines).
struct Progress {
  std::string phase;
  double elapsed_s = 0;
  double total_s = 0;
  double requests_per_s = 0;  // Over the last second, all operations.
  double claim_p99_ms = 0;    // Over the last second.
  int64_t errors = 0;         // Over the last second.
  int journeys_active = 0;
};

struct LoadOutcome {
  RunStats stats;
  Observed observed;
  double load_seconds = 0;  // The plan's length, or how long the load ran before an abort.
  std::string aborted_by;   // The abort_on_fail check's verdict that stopped the load, if any.
};

// Asked once a second on the load's thread with the stats so far and the seconds elapsed: a
// non-empty answer stops the load (no more arrivals; journeys in flight finish) and says why.
using AbortCheck = std::function<std::string(const RunStats& stats, double elapsed_s)>;

// Creates what the flows need before the load: the rain round at rp-mock (b2c) and the hot
// packets, paid and active (hot). Synchronous. Unavailable when the server or mock refuses.
Status PrepareFixtures(const Scenario& scenario, const Target& target,
                       std::vector<ObservedPacket>* hot_packets);

// Runs every phase; `progress` and `abort_check` (may be empty) are called on this thread once
// a second. start_ns (MonotonicNs) is the load's time zero, shared with the fault timeline and
// the metrics scraper. listener (may be null; not owned, must outlive the call) is told of every
// request, arrival and drop as it happens, and of the journeys in flight.
LoadOutcome RunLoad(const Scenario& scenario, const Target& target,
                    const std::vector<ObservedPacket>& hot_packets, int64_t start_ns,
                    const std::function<void(const Progress&)>& progress,
                    const AbortCheck& abort_check = {}, StatsListener* listener = nullptr);

}  // namespace rp::sim
