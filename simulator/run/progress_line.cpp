#include "simulator/run/progress_line.h"

#include <algorithm>
#include <cstdio>

namespace rp::sim {

void ProgressFold::Add(const Progress& second) {
  line_.latest = second;
  ++line_.seconds;
  requests_sum_ += second.requests_per_s;
  line_.claim_p99_ms_worst = std::max(line_.claim_p99_ms_worst, second.claim_p99_ms);
  line_.errors += second.errors;
}

ProgressLine ProgressFold::Take() {
  ProgressLine out = line_;
  if (out.seconds > 0) out.requests_per_s_mean = requests_sum_ / static_cast<double>(out.seconds);
  line_ = ProgressLine{};
  requests_sum_ = 0;
  return out;
}

std::string FormatProgressLine(const ProgressLine& l) {
  char text[256];
  std::snprintf(text, sizeof text,
                "[%-10s] %4.0f/%.0f s  %7.0f req/s  p99(claim) worst 1s %7.2f ms  errors %lld in "
                "%lld s  journeys %d",
                l.latest.phase.c_str(), l.latest.elapsed_s, l.latest.total_s, l.requests_per_s_mean,
                l.claim_p99_ms_worst, static_cast<long long>(l.errors),
                static_cast<long long>(l.seconds), l.latest.journeys_active);
  return text;
}

}  // namespace rp::sim
