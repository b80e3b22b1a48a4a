// The live progress line. The load engine reports once a second (Progress: the last second's
// figures); a terminal shows a line every second, a log every few seconds. A line for several
// seconds must speak for all of them, not for the one it is printed in — a 200 ms second between
// two printed ones would otherwise never be seen. Pure; thread-compatible.
#pragma once

#include <cstdint>
#include <string>

#include "simulator/engine/load_engine.h"

namespace rp::sim {

// The seconds since the last printed line, folded.
struct ProgressLine {
  Progress latest;                 // Phase, elapsed time and journeys as of the last second.
  int64_t seconds = 0;             // How many seconds the line covers.
  double requests_per_s_mean = 0;  // Over those seconds.
  double claim_p99_ms_worst = 0;   // The worst one second's p99(claim) among them.
  int64_t errors = 0;              // Summed over them.
};

class ProgressFold {
 public:
  // One second's figures, as the load engine reports them.
  void Add(const Progress& second);
  // The seconds added since the last Take, folded; the next line starts empty.
  ProgressLine Take();

 private:
  ProgressLine line_;
  double requests_sum_ = 0;
};

// "[peak      ]   10/30 s      812 req/s  p99(claim) worst 1s  203.00 ms  errors 12 in 5 s
// journeys 40" (one line).
std::string FormatProgressLine(const ProgressLine& line);

}  // namespace rp::sim
