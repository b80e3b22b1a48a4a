#include "common/yaml_json.h"

#include <charconv>
#include <cmath>

namespace rp {
namespace {

nlohmann::json ScalarToJson(const YAML::Node& n) {
  const std::string& s = n.Scalar();
  if (n.Tag() == "!") return s;  // Quoted in the file: a string, whatever it looks like.
  if (s == "true") return true;
  if (s == "false") return false;
  const char* end = s.data() + s.size();
  int64_t i = 0;
  auto [ip, iec] = std::from_chars(s.data(), end, i);
  if (iec == std::errc() && ip == end && !s.empty()) return i;
  double d = 0;
  auto [dp, dec] = std::from_chars(s.data(), end, d);
  if (dec == std::errc() && dp == end && !s.empty() && std::isfinite(d)) return d;
  return s;
}

// Counts every value produced (an alias counts again each time it is expanded).
nlohmann::json Convert(const YAML::Node& n, int depth, int64_t* values) {
  if (++*values > kYamlJsonValuesMax) {
    throw YAML::Exception(n.Mark(), "more than " + std::to_string(kYamlJsonValuesMax) +
                                        " values once its aliases are expanded");
  }
  if (depth > kYamlJsonDepthMax) {
    throw YAML::Exception(n.Mark(), "nested deeper than " + std::to_string(kYamlJsonDepthMax));
  }
  if (n.IsMap()) {
    nlohmann::json j = nlohmann::json::object();
    for (const auto& kv : n) j[kv.first.Scalar()] = Convert(kv.second, depth + 1, values);
    return j;
  }
  if (n.IsSequence()) {
    nlohmann::json j = nlohmann::json::array();
    for (const auto& x : n) j.push_back(Convert(x, depth + 1, values));
    return j;
  }
  if (n.IsNull() || !n.IsDefined()) return nullptr;
  return ScalarToJson(n);
}

}  // namespace

nlohmann::json YamlToJson(const YAML::Node& n) {
  int64_t values = 0;
  return Convert(n, 0, &values);
}

Result<YAML::Node> LoadYamlFile(const std::string& path) {
  try {
    return YAML::LoadFile(path);
  } catch (const YAML::Exception& e) {
    return Status(Error::kBadConfig, path + ": " + e.what());
  }
}

}  // namespace rp
