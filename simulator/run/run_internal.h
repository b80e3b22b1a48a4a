// Shared by run.cpp and compare.cpp only.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "simulator/results/junit.h"
#include "simulator/run/run.h"

namespace rp::sim {

// The wall clock now, UTC, in a strftime format ("%Y%m%d-%H%M%S" for folder names).
std::string UtcNow(const char* format);

// One run; *summary (if not null) receives summary.json's content. Exit code as RunScenario.
int RunOnce(const RunOptions& options, nlohmann::json* summary);

// Writes options.junit_path (when set) from the summaries and any extra suites (regress: the
// gate's cases); returns rc, or 2 when the file could not be written.
int WriteJUnitIfAsked(const RunOptions& options, const std::vector<nlohmann::json>& summaries,
                      int rc, const std::vector<JUnitSuite>& extra = {});

// Where a compare or regress writes: options.out_dir, else results/<what>-<scenario>-<time>.
std::string ResultsDir(const RunOptions& options, const std::string& what);

// The end-of-run summary on stdout: verdict, per-op table, checks, verification, where results are.
void PrintSummary(const nlohmann::json& summary, const std::string& out_dir);

}  // namespace rp::sim
