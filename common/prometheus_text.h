// Parser for the Prometheus text exposition format (version 0.0.4) as rp-server's /metrics
// writes it (prometheus-cpp): `name{label="value",...} number [timestamp]`, with # HELP / # TYPE
// lines. Histograms appear as their _bucket{le=...}, _sum and _count samples. Shared by rp-sim
// (server_metrics.csv) and rp-dash (live charts). Pure functions; thread-safe.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "common/status.h"

namespace rp::prom {

struct Sample {
  std::string name;
  std::map<std::string, std::string> labels;
  double value = 0;
};

// Parses every sample line. InvalidArgument naming the line number for a malformed sample
// (unterminated label value, missing value, a value that is not a number, NaN and ±Inf allowed).
Result<std::vector<Sample>> ParseText(const std::string& text);

// Sum of every sample called `name`, over all label sets (0 when there is none).
double Sum(const std::vector<Sample>& samples, const std::string& name);

}  // namespace rp::prom
