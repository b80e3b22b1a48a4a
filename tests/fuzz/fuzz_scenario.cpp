// rp-sim's scenario files (YAML: every key, check expressions, mock switches, the server config
// passed through) and check expressions alone.
#include "simulator/scenario/check.h"
#include "simulator/scenario/scenario.h"
#include "tests/fuzz/fuzz_target.h"

// (void): every result is dropped on purpose; the target looks for crashes, hangs and sanitizer
// reports, which an answer (ok or an error) never is.
extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const auto [which, text] = rp::fuzz::Split(data, size);
  if (which % 2 == 0) {
    auto s = rp::sim::ParseScenarioText(text, "fuzz.yaml");
    if (s.ok() && s->load.phases.empty()) rp::fuzz::Fail("a scenario without load phases loaded");
  } else {
    (void)rp::sim::ParseCheck(text);
  }
  return 0;
}
