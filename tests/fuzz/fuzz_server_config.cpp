// rp-server's config file (YAML): every key declared once, its range and the rules across
// keys; a bad file must be a bad_config naming where, never a crash.
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "server/app/config.h"
#include "tests/fuzz/fuzz_target.h"

// (void): every result is dropped on purpose; the target looks for crashes, hangs and sanitizer
// reports, which an answer (ok or an error) never is.
extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const std::string path = (std::filesystem::temp_directory_path() /
                                   ("rp-fuzz-config-" + std::to_string(getpid()) + ".yaml"))
                                      .string();
  std::ofstream(path, std::ios::binary | std::ios::trunc)
      .write(reinterpret_cast<const char*>(data), static_cast<std::streamsize>(size));
  rp::ServerConfig config;
  rp::options::Registry registry;
  rp::Declare(registry, &config);
  (void)rp::LoadServerConfig({path, {}}, registry, &config);
  return 0;
}
