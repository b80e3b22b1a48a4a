// YAML -> JSON, the one conversion the programs share (rp-mock's config reuses its admin API's
// JSON parsers; scenario files pass rp-mock switches through). Scalars become, in this order:
// true/false, a whole number that fits int64 (never rounded through a double), a finite decimal
// number, else the string as written. Quoted scalars ("123") stay strings. Pure; thread-safe.
#pragma once

#include <yaml-cpp/yaml.h>

#include <nlohmann/json.hpp>
#include <string>

#include "common/status.h"

namespace rp {

// Aliases let a few hundred bytes of YAML stand for billions of nodes (a "billion laughs"): a
// conversion that would produce more than this many values, or nest deeper, is refused.
inline constexpr int64_t kYamlJsonValuesMax = 100'000;
inline constexpr int kYamlJsonDepthMax = 64;

// Throws YAML::Exception ("... more than N values once its aliases are expanded", or "nested
// deeper than N") past those bounds, like any other malformed YAML.
nlohmann::json YamlToJson(const YAML::Node& node);

// Loads a YAML file into a node, turning yaml-cpp's exceptions into bad_config naming the file
// (and line, where yaml-cpp knows it).
Result<YAML::Node> LoadYamlFile(const std::string& path);

}  // namespace rp
