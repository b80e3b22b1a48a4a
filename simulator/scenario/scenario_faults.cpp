#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <string>
#include <vector>

#include "common/claim_schemes.h"
#include "common/ledger_engines.h"
#include "common/mock_switch.h"
#include "common/yaml_json.h"
#include "simulator/scenario/fault_actions.h"
#include "simulator/scenario/scenario_yaml.h"

namespace rp::sim::scenario_internal {
namespace {

// The actions that take an argument, for messages: "instance_kill and instance_restart".
std::string Owners(bool FaultActionInfo::*takes) {
  std::vector<std::string> names;
  for (const FaultActionInfo& row : kFaultActions) {
    if (row.*takes) names.emplace_back(row.name);
  }
  std::string text;
  for (size_t i = 0; i < names.size(); ++i) {
    text += (i == 0 ? "" : i + 1 == names.size() ? " and " : ", ") + names[i];
  }
  return text;
}

// One fault of the timeline: its action from the table, and only the arguments that action takes.
Fault ReadFault(const YAML::Node& n) {
  Map m(n, "faults[]");
  Fault f;
  f.line = n.Mark().line + 1;
  m.Read<double>("at_s", f.at_s, 0, 86400);
  std::string name;
  m.ReadString("action", name, FaultActionNames());
  if (name.empty()) Fail(n, "a fault needs an action");
  f.action = *FindFaultAction(name);
  const FaultActionInfo& info = Info(f.action);
  m.Read<int>("instance", f.instance, 0, 7);
  m.ReadString("claim_scheme", f.claim_scheme, ClaimSchemeNames());
  if (YAML::Node sw = m.Get("switch")) {
    if (!sw.IsMap() || !sw["service"]) Fail(sw, "switch must be an rp-mock switch mapping");
    CheckSwitch(sw);
    f.switch_json = YamlToJson(sw).dump();
  }
  m.ReadBudget("unanswered_max", f.unanswered_max);
  m.Read<double>("unanswered_recovery_s", f.unanswered_recovery_s, 0, 3600);
  m.RejectUnknown({"at_s", "action", "switch", "instance", "claim_scheme", "unanswered_max",
                   "unanswered_recovery_s"});
  if (m.Get("unanswered_recovery_s") && !m.Get("unanswered_max")) {
    Fail(n, "'unanswered_recovery_s' extends the window of an unanswered_max: give both");
  }
  if (m.Get("claim_scheme") && !info.takes_claim_scheme) {
    Fail(n, "'claim_scheme' belongs to " + Owners(&FaultActionInfo::takes_claim_scheme) + " only");
  }
  if (m.Get("instance") && !info.takes_instance) {
    Fail(n, "'instance' belongs to " + Owners(&FaultActionInfo::takes_instance) + " only");
  }
  if (info.takes_switch != !f.switch_json.empty()) {
    Fail(n, "'switch' is required with action " + Owners(&FaultActionInfo::takes_switch) +
                " and only there");
  }
  return f;
}

}  // namespace

void ReadFaults(const YAML::Node& list, std::vector<Fault>& out) {
  if (!list.IsSequence()) Fail(list, "faults must be a list");
  for (const auto& n : list) out.push_back(ReadFault(n));
  std::stable_sort(out.begin(), out.end(),
                   [](const Fault& a, const Fault& b) { return a.at_s < b.at_s; });
}

void CheckSwitch(const YAML::Node& node) {
  Result<mock::Switch> parsed = mock::ParseSwitch(YamlToJson(node));
  if (!parsed.ok()) Fail(node, "rp-mock would refuse this switch: " + parsed.status().message());
}

// What the fault's action needs of the system (its row says), and the instance it names.
Status FaultFits(const Fault& f, const SystemSpec& sys, const std::string& at) {
  const FaultActionInfo& info = Info(f.action);
  if (info.takes_instance && f.instance >= sys.instances) {
    return Status(Error::kBadScenario, at + " names instance " + std::to_string(f.instance) +
                                           " of " + std::to_string(sys.instances) +
                                           " (instances count from 0)");
  }
  switch (info.needs) {
    case FaultNeeds::kNothing:
      return Status::Ok();
    case FaultNeeds::kRedis:
      if (sys.redis) return Status::Ok();
      return Status(Error::kBadScenario, at + " needs system.redis: true");
    case FaultNeeds::kPostgres:
      if (sys.ledger == kPostgresEngine) return Status::Ok();
      return Status(Error::kBadScenario, at + " needs system.ledger: postgres");
    case FaultNeeds::kTwoInstances:
      if (sys.instances >= 2) return Status::Ok();
      return Status(Error::kBadScenario,
                    at + " needs system.instances >= 2 (with one, server_kill kills the server)");
  }
  return Internal("unknown fault need");  // Unreachable: the switch names every need.
}

}  // namespace rp::sim::scenario_internal
