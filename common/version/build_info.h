// What kind of build a program is: its CMake build type, sanitizers, compiler flags, allocator
// and fault injection, fixed when the build was configured, plus the machine it runs on. A
// measurement is only comparable with one made by the same kind of build (an AddressSanitizer
// build spends its CPU differently from a Release one), so baselines record this and regress
// refuses a baseline of another kind. Thread-safe.
#pragma once

#include <string>

namespace rp {

struct BuildInfo {
  std::string build_type;  // CMAKE_BUILD_TYPE: "Release", "RelWithDebInfo", ...
  // "address,undefined", "address,undefined,fuzzer-coverage" (the test build: everything also
  // instrumented for libFuzzer), "thread" or "none".
  std::string sanitizers;
  std::string cxx_flags;         // The compiler flags of that build type, as configured.
  std::string compiler;          // e.g. "GNU 12.2.0".
  std::string allocator;         // rp-server's malloc: "jemalloc" or "system".
  bool fault_injection = false;  // Built with the deliberate bugs the tests plant.
  std::string commit;            // GitVersion().

  // "RelWithDebInfo+address,undefined (Clang)": what must match for two measurements to compare.
  // The compiler's family is part of it (g++ and clang spend different CPU on the same code);
  // its version is not (a note when it differs).
  std::string Kind() const { return build_type + "+" + sanitizers + " (" + CompilerFamily() + ")"; }
  std::string CompilerFamily() const { return compiler.substr(0, compiler.find(' ')); }
};

const BuildInfo& ThisBuild();

// The CPU model of this machine (/proc/cpuinfo's "model name"), or "unknown".
std::string CpuModel();

}  // namespace rp
