// Prometheus text as rp-sim's monitor and rp-dash's live mode read it (a scrape of a server
// that is not ours, or not well).
#include "common/prometheus_text.h"
#include "dashboard/run_data.h"
#include "tests/fuzz/fuzz_target.h"

// (void): every result is dropped on purpose; the target looks for crashes, hangs and sanitizer
// reports, which an answer (ok or an error) never is.
extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  (void)rp::prom::ParseText(text);
  rp::dash::LiveMetrics live;  // Two scrapes: rates and bucket deltas need a previous one.
  const size_t half = text.size() / 2;
  (void)live.AddScrape(1.0, text.substr(0, half));
  (void)live.AddScrape(2.0, text.substr(half));
  return 0;
}
