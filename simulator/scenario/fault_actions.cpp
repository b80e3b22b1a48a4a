#include "simulator/scenario/fault_actions.h"

#include "common/check.h"

namespace rp::sim {

using A = FaultAction;
using L = FaultLane;
using N = FaultNeeds;

// name, lane, needs, instance?, switch?, claim_scheme?, ended by, takes the service away, tickets.
// Drawable rows keep the order seeds drew them in: the first eight tickets are what seeds drew
// before PostgreSQL and instance faults joined, so an SQLite campaign's seeds draw what they
// drew then.
const std::array<FaultActionInfo, kFaultActionCount> kFaultActions = {{
    {A::kRedisStop,
     "redis_stop",
     L::kRedis,
     N::kRedis,
     false,
     false,
     false,
     {A::kRedisStart, A::kRedisStaleRestart},
     false,
     1},
    {A::kRedisStart, "redis_start", L::kRedis, N::kRedis, false, false, false, {}, false, 0},
    {A::kRedisFlush, "redis_flush", L::kRedis, N::kRedis, false, false, false, {}, false, 1},
    {A::kRedisSnapshot,
     "redis_snapshot",
     L::kRedis,
     N::kRedis,
     false,
     false,
     false,
     {A::kRedisStaleRestart},
     false,
     1},
    {A::kRedisStaleRestart,
     "redis_stale_restart",
     L::kRedis,
     N::kRedis,
     false,
     false,
     false,
     {},
     false,
     0},
    {A::kServerKill, "server_kill", L::kServer, N::kNothing, false, false, false, {}, true, 1},
    {A::kServerPause,
     "server_pause",
     L::kServer,
     N::kNothing,
     false,
     false,
     false,
     {A::kServerResume},
     true,
     1},
    {A::kServerResume, "server_resume", L::kServer, N::kNothing, false, false, false, {}, false, 0},
    {A::kServerRestart, "server_restart", L::kServer, N::kNothing, false, false, true, {}, true, 1},
    // Mocks have the most effects: two tickets.
    {A::kMockSwitch,
     "mock_switch",
     L::kMock,
     N::kNothing,
     false,
     true,
     false,
     {A::kMockReset},
     false,
     2},
    {A::kMockReset, "mock_reset", L::kMock, N::kNothing, false, false, false, {}, false, 0},
    {A::kDbCrash, "db_crash", L::kDatabase, N::kPostgres, false, false, false, {}, true, 1},
    {A::kDbRestart, "db_restart", L::kDatabase, N::kPostgres, false, false, false, {}, true, 1},
    // Also ended by every instance restarted at once.
    {A::kInstanceKill,
     "instance_kill",
     L::kServer,
     N::kTwoInstances,
     true,
     false,
     false,
     {A::kInstanceRestart, A::kServerKill, A::kServerRestart},
     true,
     1},
    {A::kInstanceRestart,
     "instance_restart",
     L::kServer,
     N::kNothing,
     true,
     false,
     false,
     {},
     true,
     1},
}};

const FaultActionInfo& Info(FaultAction action) {
  const FaultActionInfo& row = kFaultActions[static_cast<size_t>(action)];
  RP_CHECK(row.action == action);  // The rows are in enumerator order.
  return row;
}

std::optional<FaultAction> FindFaultAction(std::string_view name) {
  for (const FaultActionInfo& row : kFaultActions) {
    if (name == row.name) return row.action;
  }
  return std::nullopt;
}

std::vector<std::string> FaultActionNames() {
  std::vector<std::string> names;
  for (const FaultActionInfo& row : kFaultActions) names.emplace_back(row.name);
  return names;
}

}  // namespace rp::sim
