// What kind of build a program is: its CMake build type, sanitizers, compiler flags, allocator
// and fault injection, fixed when the build was configured, plus the machine it runs on. A
// measurement is only comparable with one made by the same kind of build (an AddressSanitizer
// build spends its CPU differently from a Release one), so baselines record this and regress
// refuses a baseline of another kind. Thread-safe.
#pragma once

#include <string>

namespace rp {

struct BuildInfo {
  std::string build_type;        // CMAKE_BUILD_TYPE: "Release", "RelWithDebInfo", ...
  std::string sanitizers;        // "address,undefined", "thread" or "none".
  std::string cxx_flags;         // The compiler flags of that build type, as configured.
  std::string compiler;          // e.g. "GNU 12.2.0".
  std::string allocator;         // rp-server's malloc: "jemalloc" or "system".
  bool fault_injection = false;  // Built with the deliberate bugs the tests plant.
  std::string commit;            // GitVersion().

  // "RelWithDebInfo+address,undefined": what must match for two measurements to compare.
  std::string Kind() const { return build_type + "+" + sanitizers; }
};

const BuildInfo& ThisBuild();

// The CPU model of this machine (/proc/cpuinfo's "model name"), or "unknown".
std::string CpuModel();

}  // namespace rp
