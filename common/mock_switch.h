// A switch of rp-mock (docs/mocks.md): which service and endpoint it applies to and what it does
// — latency, error, timeout and duplicate rates, an outage. Its one parser and validator, shared
// by rp-mock (its admin API and config file) and rp-sim (scenario files are checked when read,
// so a switch rp-mock would refuse never reaches a run). Pure; thread-safe.
#pragma once

#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "common/status.h"

namespace rp::mock {

struct Switch {
  std::string service;
  std::string endpoint = "*";
  std::string latency_kind = "none";  // none | fixed | uniform | lognormal
  double latency_a = 0, latency_b = 0;
  double error_rate = 0, timeout_rate = 0, duplicate_rate = 0;
  bool down = false;
  int64_t hang_ms = 3000;
};

// Service -> its endpoint names (validation of switches).
const std::map<std::string, std::vector<std::string>>& KnownEndpoints();

// Parses and validates a switch from its JSON form (the admin API and the config file).
Result<Switch> ParseSwitch(const nlohmann::json& j);
nlohmann::json SwitchJson(const Switch& s);

}  // namespace rp::mock
