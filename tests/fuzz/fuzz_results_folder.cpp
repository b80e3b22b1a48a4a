// A results folder as rp-dash reads it: the input is cut into summary.json, timeseries.csv,
// server_metrics.csv and faults.csv at the first three NUL bytes, written to a private folder
// and loaded.
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "common/results/results_format.h"
#include "dashboard/run_data.h"
#include "tests/fuzz/fuzz_target.h"

// (void): every result is dropped on purpose; the target looks for crashes, hangs and sanitizer
// reports, which an answer (ok or an error) never is.
extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const std::string dir = [] {
    const auto d =
        std::filesystem::temp_directory_path() / ("rp-fuzz-results-" + std::to_string(getpid()));
    std::filesystem::create_directories(d);
    return d.string();
  }();
  const std::string text(reinterpret_cast<const char*>(data), size);
  const char* files[] = {rp::results::kSummaryFile, rp::results::kTimeseriesFile,
                         rp::results::kServerMetricsFile, rp::results::kFaultsFile};
  size_t at = 0;
  for (int i = 0; i < 4; ++i) {
    const size_t end = i == 3 ? text.size() : std::min(text.size(), text.find('\0', at));
    std::ofstream(dir + "/" + files[i], std::ios::binary | std::ios::trunc)
        << text.substr(std::min(at, text.size()), end - std::min(at, end));
    at = end + 1;
  }
  (void)rp::dash::LoadRunFolder(dir);
  return 0;
}
