// The fault actions a scenario's timeline can hold: one row each in kFaultActions, the only place
// their names are written. The scenario loader, the system that applies them, the campaign that
// draws them, the unanswered-request windows and the reports all read this table; whatever acts
// on an action switches over FaultAction without a default, so the compiler names a missing case.
//
// Adding a fault kind: its enumerator, its row below, its case in SystemUnderTest::Apply (and in
// the campaign's drawing if it is drawable), its line in docs/scenarios.md (a test checks it).
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace rp::sim {

enum class FaultAction : uint8_t {
  kRedisStop,
  kRedisStart,
  kRedisFlush,
  kRedisSnapshot,
  kRedisStaleRestart,
  kServerKill,
  kServerPause,
  kServerResume,
  kServerRestart,
  kMockSwitch,
  kMockReset,
  kDbCrash,
  kDbRestart,
  kInstanceKill,
  kInstanceRestart,
};
inline constexpr size_t kFaultActionCount = 15;

// The component an action works on. The campaign never overlaps two faults of one lane (a
// stopped Redis cannot be flushed); instances are the server's tier, so they share its lane.
enum class FaultLane : uint8_t { kRedis, kServer, kMock, kDatabase };

// What the system under test must have for the action.
enum class FaultNeeds : uint8_t { kNothing, kRedis, kPostgres, kTwoInstances };

struct FaultActionInfo {
  FaultAction action;
  const char* name;  // As written in scenario files, faults.csv and summary.json.
  FaultLane lane;
  FaultNeeds needs;
  // The arguments it takes (each refused on any other action).
  bool takes_instance = false;      // instance: N (0-based)
  bool takes_switch = false;        // switch: {...} (required)
  bool takes_claim_scheme = false;  // claim_scheme: NAME (optional)
  // The actions that end the state this one opens (none: over when its own action is done). A
  // budget of unanswered requests on it lasts until one of them is done; the first is the one a
  // campaign draws to close it. An ending action that takes an instance ends it for that one only.
  std::array<std::optional<FaultAction>, 3> ended_by = {};
  // It takes the server or its database away: requests in flight meanwhile may get no answer,
  // so a campaign gives its window a budget.
  bool takes_service_away = false;
  // Tickets in the campaign's draw; 0: never drawn on its own (it closes another's window).
  int campaign_tickets = 0;
};

// In the campaign's ticket order: the drawable rows' order decides what each seed draws.
extern const std::array<FaultActionInfo, kFaultActionCount> kFaultActions;

// The row of an action (every action has one).
const FaultActionInfo& Info(FaultAction action);
inline const char* Name(FaultAction action) {
  return Info(action).name;
}
// The action written `name`; nullopt for none.
std::optional<FaultAction> FindFaultAction(std::string_view name);
std::vector<std::string> FaultActionNames();

}  // namespace rp::sim
