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

}  // namespace

nlohmann::json YamlToJson(const YAML::Node& n) {
  if (n.IsMap()) {
    nlohmann::json j = nlohmann::json::object();
    for (const auto& kv : n) j[kv.first.Scalar()] = YamlToJson(kv.second);
    return j;
  }
  if (n.IsSequence()) {
    nlohmann::json j = nlohmann::json::array();
    for (const auto& x : n) j.push_back(YamlToJson(x));
    return j;
  }
  if (n.IsNull() || !n.IsDefined()) return nullptr;
  return ScalarToJson(n);
}

Result<YAML::Node> LoadYamlFile(const std::string& path) {
  try {
    return YAML::LoadFile(path);
  } catch (const YAML::Exception& e) {
    return Status(Error::kBadConfig, path + ": " + e.what());
  }
}

}  // namespace rp
