// The scenario loader's strict YAML reading, shared by the files of simulator/scenario/: a
// mapping whose keys are checked against what the reader asked for, typed reads with ranges, and
// errors that name the line. Internal to the loader (LoadScenario turns ScenarioError into a
// Status); nothing outside this folder includes it.
#pragma once

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cstdint>
#include <set>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "simulator/scenario/scenario.h"

namespace rp::sim::scenario_internal {

// Thrown inside the loader only; LoadScenario turns it into a Status.
struct ScenarioError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

inline std::string At(const YAML::Node& n) {
  return "line " + std::to_string(n.Mark().line + 1);
}

[[noreturn]] inline void Fail(const YAML::Node& n, const std::string& what) {
  throw ScenarioError(At(n) + ": " + what);
}

// A YAML mapping whose keys are checked against what the reader asked for.
class Map {
 public:
  Map(YAML::Node node, std::string where) : node_(std::move(node)), where_(std::move(where)) {
    if (!node_.IsMap()) Fail(node_, where_ + " must be a mapping");
  }
  // Throws on any key that no getter asked for. Call after reading; `hint` ends the message.
  void RejectUnknown(std::initializer_list<const char*> known, const std::string& hint = "") const {
    std::set<std::string> names(known.begin(), known.end());
    for (const auto& kv : node_) {
      const std::string key = kv.first.as<std::string>();
      if (!names.count(key)) {
        std::string list;
        for (const auto& k : names) list += (list.empty() ? "" : ", ") + k;
        Fail(kv.first, "unknown key '" + key + "' in " + where_ + " (expected one of: " + list +
                           ")" + (hint.empty() ? "" : " " + hint));
      }
    }
  }
  YAML::Node Get(const char* key) const { return node_[key]; }
  const YAML::Node& node() const { return node_; }

  template <typename T>
  void Read(const char* key, T& out, T min, T max) const {
    YAML::Node v = node_[key];
    if (!v) return;
    T value{};
    try {
      value = v.as<T>();
    } catch (const YAML::Exception&) {
      Fail(v, where_ + "." + key + " must be a number");
    }
    if (!(value >= min && value <= max)) {  // Written so that NaN (.nan) is out of range too.
      Fail(v, where_ + "." + key + " must be in " + Num(min) + " .. " + Num(max));
    }
    out = value;
  }
  void ReadBool(const char* key, bool& out) const {
    YAML::Node v = node_[key];
    if (!v) return;
    try {
      out = v.as<bool>();
    } catch (const YAML::Exception&) {
      Fail(v, where_ + "." + key + " must be true or false");
    }
  }
  void ReadString(const char* key, std::string& out,
                  const std::vector<std::string>& allowed = {}) const {
    YAML::Node v = node_[key];
    if (!v) return;
    if (!v.IsScalar()) Fail(v, where_ + "." + key + " must be a string");
    std::string s = v.as<std::string>();
    if (!allowed.empty() && std::find(allowed.begin(), allowed.end(), s) == allowed.end()) {
      std::string list;
      for (const std::string& a : allowed) list.append(list.empty() ? "" : " | ").append(a);
      Fail(v, where_ + "." + key + " is '" + s + "', expected " + list);
    }
    out = s;
  }
  // A count of requests, or `all` (kUnansweredAll).
  void ReadBudget(const char* key, int64_t& out) const {
    YAML::Node v = node_[key];
    if (!v) return;
    if (v.IsScalar() && v.Scalar() == "all") {
      out = kUnansweredAll;
      return;
    }
    Read<int64_t>(key, out, 0, int64_t{1} << 40);
  }
  void ReadRange(const char* key, IntRange& out, int64_t min, int64_t max) const {
    YAML::Node v = node_[key];
    if (!v) return;
    IntRange r;
    try {
      if (v.IsScalar()) {
        r.min = r.max = v.as<int64_t>();
      } else if (v.IsSequence() && v.size() == 2) {
        r = {v[0].as<int64_t>(), v[1].as<int64_t>()};
      } else {
        Fail(v, where_ + "." + key + " must be a number or [min, max]");
      }
    } catch (const YAML::Exception&) {
      Fail(v, where_ + "." + key + " must be a number or [min, max] of integers");
    }
    if (r.min < min || r.max > max || r.min > r.max) {
      Fail(v, where_ + "." + key + " must lie in " + Num(min) + " .. " + Num(max) +
                  " with min <= max");
    }
    out = r;
  }

 private:
  template <typename T>
  static std::string Num(T v) {
    std::ostringstream s;
    s << v;
    return s.str();
  }
  YAML::Node node_;  // A handle: copies share the document.
  std::string where_;
};

// An rp-mock switch is checked as rp-mock will check it, so a value it would refuse (a rate of 3,
// service "walet") is an error of the file, at its line, not a fault that fails mid-run.
void CheckSwitch(const YAML::Node& node);

// The faults of a scenario (scenario_faults.cpp): each action from the fault-action table, with
// only the arguments it takes; sorted by time.
void ReadFaults(const YAML::Node& list, std::vector<Fault>& out);
// What the fault's action needs of the system (its row says), and the instance it names; `at`
// names the fault in the message.
Status FaultFits(const Fault& f, const SystemSpec& sys, const std::string& at);

}  // namespace rp::sim::scenario_internal
