#include "common/version/version.h"

#include "rp_version_text.h"  // Generated at build time by gen_version.cmake.

namespace rp {

const char* GitVersion() {
  return RP_GIT_VERSION_TEXT;
}

std::string VersionLine(const std::string& program) {
  return program + " " + GitVersion() + " (Redpacket Lab)";
}

}  // namespace rp
