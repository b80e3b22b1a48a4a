// The entry point every fuzz target defines (libFuzzer's). A target feeds the bytes to one
// family of parsers of outside input and returns 0; a crash, a sanitizer report, an abort
// from an assertion, a leak or a hang is the finding. Built two ways (tests/fuzz/CMakeLists.txt):
// with clang's libFuzzer (`./rp fuzz`), and with replay_main.cpp, which runs the checked-in
// corpus and every past crash through the target in the ordinary test build.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);

namespace rp::fuzz {

// The first byte picks which parser of the family gets the rest.
inline std::pair<uint8_t, std::string> Split(const uint8_t* data, size_t size) {
  if (size == 0) return {0, std::string()};
  return {data[0], std::string(reinterpret_cast<const char*>(data) + 1, size - 1)};
}

// A fuzzer finding in our own terms: abort with a message (libFuzzer records the input).
[[noreturn]] void Fail(const char* what);

}  // namespace rp::fuzz
