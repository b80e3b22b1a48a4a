#include "common/version/build_info.h"

#include <fstream>

#include "common/version/version.h"

// RP_BUILD_* are defined for this file alone by common/version/CMakeLists.txt at configure time.
namespace rp {

const BuildInfo& ThisBuild() {
  static const BuildInfo kBuild = [] {
    BuildInfo b;
    b.build_type = RP_BUILD_TYPE;
    b.sanitizers = RP_BUILD_SANITIZERS;
    b.cxx_flags = RP_BUILD_CXX_FLAGS;
    b.compiler = RP_BUILD_COMPILER;
    b.allocator = RP_BUILD_ALLOCATOR;
    b.fault_injection = RP_BUILD_FAULT_INJECTION != 0;
    b.commit = GitVersion();
    return b;
  }();
  return kBuild;
}

std::string CpuModel() {
  std::ifstream in("/proc/cpuinfo");
  for (std::string line; std::getline(in, line);) {
    if (line.rfind("model name", 0) != 0) continue;
    const size_t colon = line.find(':');
    if (colon == std::string::npos) break;
    const size_t start = line.find_first_not_of(' ', colon + 1);
    return start == std::string::npos ? "unknown" : line.substr(start);
  }
  return "unknown";
}

}  // namespace rp
