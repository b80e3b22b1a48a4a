// The version every program reports (`--version`, summary.json, /healthz): the git commit the
// binary was built from (`git describe --always --dirty`), taken at build time. Thread-safe.
#pragma once

#include <string>

namespace rp {

// e.g. "f22df8e" or "f22df8e-dirty"; "unknown" when built outside a git checkout.
const char* GitVersion();

// "rp-sim f22df8e (Redpacket Lab)": the line `--version` prints.
std::string VersionLine(const std::string& program);

}  // namespace rp
