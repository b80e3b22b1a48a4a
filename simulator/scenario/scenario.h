// Scenario: what one simulator run does — the system to start, the user population, the flows and
// their mix, the load phases, the fault timeline and the checks. Loaded from a YAML file
// (schema and examples: docs/scenarios.md). The loader is strict: an unknown key, a wrong type or
// a value out of range is an InvalidArgument naming the file, the line and what was expected, so
// a typo never silently runs a different experiment. Plain data; thread-compatible.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/claim_schemes.h"
#include "common/ledger_engines.h"
#include "common/status.h"
#include "simulator/scenario/check.h"
#include "simulator/scenario/fault_actions.h"

namespace rp::sim {

// An inclusive integer range [min, max]; a scalar `5` in the file means [5, 5].
struct IntRange {
  int64_t min = 0;
  int64_t max = 0;
};

// What the simulator starts when it has no --target. The keys here say which processes run
// (the scheme decides whether Redis must); everything else about rp-server is `server`, a
// fragment of rp-server's own config file in its own keys, checked by rp-server's loader
// (`rp-server config --check`) before anything starts.
struct SystemSpec {
  std::string claim_scheme{SchemeName(ClaimSchemeId::kDbLock)};  // common/claim_schemes.h
  bool redis = false;              // Start a private redis-server (mem_lock/presplit need it).
  std::string mock_switches_json;  // Initial rp-mock switches (JSON array), may be empty.
  // The ledger: embedded SQLite, or a private PostgreSQL 15 rp-sim starts.
  std::string ledger{kSqliteEngine};  // sqlite | postgres
  // rp-server processes over the one ledger; more than one needs postgres and puts a private
  // HAProxy in front (one packet's requests to one instance by consistent hash).
  int instances = 1;
  // rp-server config sections as the scenario gives them ({"packet": {"ttl_s": 10}}), written
  // into every instance's config file. Keys rp-sim sets itself (ports, URLs, secrets, the
  // engine, the scheme, the seed) are refused at load (RpSimOwnedServerKeys).
  nlohmann::json server_config = nlohmann::json::object();
};

// The rp-server keys rp-sim sets itself, each with what sets it instead ("system.ledger", "a
// free port"); a scenario's system.server may not set them.
struct OwnedServerKey {
  const char* key;  // "ledger.url"; "secrets.*" for a whole section.
  const char* set_by;
};
const std::vector<OwnedServerKey>& RpSimOwnedServerKeys();

// A key of a system.server fragment by its dotted name ("packet.ttl_s"); nullptr when the
// scenario does not set it (rp-server's default applies).
const nlohmann::json* ServerConfigKey(const SystemSpec& s, const std::string& dotted);

// The system needs a Redis: the scheme says so, or system.server sets async.queue: redis_streams.
bool SystemNeedsRedis(const SystemSpec& s);

// One load phase. Open model: journeys start at `rate` per second following `shape`; closed
// model: `users` virtual users each run journeys back to back with `think_ms` between them.
// unanswered_max meaning "any number": every request in the window may go unanswered.
inline constexpr int64_t kUnansweredAll = INT64_MAX;
// How long after a budgeted fault is over its window stays open by default: the system coming
// back (connections dialled again, the proxy's health checks) is part of the fault.
inline constexpr double kUnansweredRecoveryS = 2.0;

struct Phase {
  std::string name;
  int64_t duration_s = 0;
  std::string shape = "constant";  // constant | ramp | spike | waves
  double rate = 0;                 // Journeys per second (open model).
  double rate_end = 0;             // ramp: the rate at the end of the phase.
  double spike_rate = 0;           // spike: the rate during [spike_at_s, spike_at_s + spike_s).
  int64_t spike_at_s = 0;
  int64_t spike_s = 0;
  int64_t wave_period_s = 0;  // waves: `rate` during the first wave_on_s of every period, else 0.
  int64_t wave_on_s = 0;
  int users = 0;  // Closed model.
  int64_t think_ms = 0;
  // Requests sent in this phase (outside every budgeted fault window) that may go without an
  // answer; kUnansweredAll for any number.
  int64_t unanswered_max = 0;

  // The open model's arrival rate at t_s seconds into the phase.
  double RateAt(double t_s) const;
};

struct LoadSpec {
  std::string model = "open";         // open | closed
  int connections = 64;               // Keep-alive connections to the server.
  int journeys_in_flight_max = 2000;  // Arrivals beyond it are dropped and counted (sim_overload).
  // More dropped arrivals than this share of those offered fails the run: the planned load did
  // not happen (open model).
  double dropped_percent_max = 1.0;
  // The generator's own p99 delay in starting arrivals above this fails the run: the simulator
  // could not offer the load on the plan's schedule (its thread was starved), so the server saw
  // bursts the scenario does not describe (open model).
  double arrival_lag_p99_ms_max = 1000;
  int64_t request_timeout_ms = 10000;
  // 0: the phases alone decide when the load ends. Else no journey starts once this many have,
  // and the load ends when they have all finished, however early: a fixed amount of work, for
  // counting instructions (rp-sim --exact sets it; scenario files do not).
  int64_t journeys_max = 0;
  std::vector<Phase> phases;
};

// Flow mix: each arrival picks a flow with probability weight / sum(weights).
struct C2cFlow {
  double weight = 0;
  IntRange count{2, 20};            // Shares per packet.
  IntRange share_cents{10, 2000};   // Mean share; total = count * mean.
  IntRange claimers{1, 20};         // Distinct users who try to claim.
  double repeat_claim_rate = 0.05;  // A claimer replays its claim (must get the same claim).
  std::string split = "random";
};
struct B2cFlow {
  double weight = 0;
  std::string round = "sim-rain";
  int64_t budget_cents = 10'000'000;
  int64_t min_cents = 100;
  int64_t max_cents = 2000;
  IntRange count{1, 10};
  IntRange claimers{1, 10};
};
struct HotFlow {  // Claims on shared hot packets created before the load starts.
  double weight = 0;
  int packets = 1;
  int64_t shares = 5000;
  int64_t share_cents = 100;
};
struct FlowSpec {
  C2cFlow c2c;
  B2cFlow b2c;
  HotFlow hot;
};

// One timeline entry. Actions: redis_stop, redis_start, server_kill (kill -9 of every instance,
// then restart), server_restart (SIGTERM then restart), instance_kill (kill -9 of one instance,
// left down), instance_restart (start it again), db_crash (PostgreSQL immediate shutdown, then
// start), db_restart (fast shutdown, then start), mock_switch (`switch` is rp-mock's switch
// JSON), mock_reset.
struct Fault {
  double at_s = 0;
  FaultAction action{};
  std::string switch_json;
  int instance = 0;  // instance_kill / instance_restart: which one (0-based).
  // server_restart: come back under this claim scheme (empty: the scenario's), on the same
  // ledger — what an engineer switching schemes to compare them does.
  std::string claim_scheme;
  // A budget for requests that get no answer because of this fault: -1 none (they count against
  // their phase's), else how many may (kUnansweredAll: any number) among the requests in flight
  // from the fault's start until unanswered_recovery_s after it is over (its own action done, or
  // the action that ends it: server_resume, redis_start, instance_restart, mock_reset).
  int64_t unanswered_max = -1;
  double unanswered_recovery_s = kUnansweredRecoveryS;
  int line = 0;  // Where it is in the scenario file, for messages.
};

struct Scenario {
  std::string path;
  std::string name;
  std::string description;
  uint64_t seed = 1;
  SystemSpec system;
  int64_t users = 100000;  // Population; user ids are first_user_id ... first_user_id+users-1.
  int64_t first_user_id = 1'000'000;
  LoadSpec load;
  FlowSpec flows;
  std::vector<Fault> faults;
  std::vector<CheckSpec> checks;

  int64_t DurationS() const;
  // The open model's planned arrival rate at t_s seconds into the load (0 after its end and
  // for the closed model).
  double PlannedRateAt(double t_s) const;
  // Scales every phase (and the fault timeline) so the load lasts duration_s in total.
  void ScaleTo(int64_t duration_s);
};

// Reads and validates a scenario file. Status(Error::kBadScenario, "FILE:LINE: ...") on any
// unknown key, wrong type or out-of-range value.
Result<Scenario> LoadScenario(const std::string& path);
// The same for a scenario's text; `path` only names it in messages.
Result<Scenario> ParseScenarioText(const std::string& text, const std::string& path);

// The faults fit the system: redis_* need system.redis, db_* the postgres ledger, instance_*
// several instances and an index below their number; several instances need postgres.
// Status(Error::kBadScenario) naming the fault's line otherwise. LoadScenario calls it; so must
// whoever changes the system afterwards (rp-sim's --ledger/--instances/--claim-scheme).
Status CheckSystemFits(const Scenario& s);

// [start_s, end_s) of the named phase in the plan (seconds from the load's start); false when
// no phase has that name.
bool PhaseWindow(const std::vector<Phase>& phases, const std::string& name, double* start_s,
                 double* end_s);

}  // namespace rp::sim
