// TempDir: a fresh directory under $TMPDIR for one test, removed with its contents afterwards.
// In its own target (rp_test_util) so unit tests of one module can use it without linking the
// whole server.
#pragma once

#include <string>

namespace rp::testing {

class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const { return path_; }
  std::string File(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

}  // namespace rp::testing
