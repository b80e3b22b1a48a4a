// Loads a YAML file into a node, turning yaml-cpp's exceptions into a Status that names the
// file (and line, where yaml-cpp knows it). For the config loaders of rp-server and rp-mock.
#pragma once

#include <yaml-cpp/yaml.h>

#include <string>

#include "common/status.h"

namespace rp {

inline Result<YAML::Node> LoadYamlFile(const std::string& path) {
  try {
    return YAML::LoadFile(path);
  } catch (const YAML::Exception& e) {
    return InvalidArgument("bad_config", path + ": " + e.what());
  }
}

}  // namespace rp
