// The figures compare and regress judge a claim scheme by, taken from one run's summary.json,
// their medians over repeated runs, the table both print, and what a baseline records about the
// build and machine that measured it. Pure functions; thread-compatible.
#pragma once

#include <nlohmann/json.hpp>
#include <ostream>
#include <string>
#include <vector>

namespace rp::sim {

// One run's figures: throughput and latency, the cost per claim won (summary "cost" and, in
// exact mode, "exact"), the ceiling's median, whether the run passed. A ratio of claims/s to the
// ceiling above 1 is impossible (more claims than the cheapest request): it is left out (null)
// and said in "measurement_errors".
nlohmann::json Figures(const nlohmann::json& summary);

// Each numeric figure's median over a scheme's runs (nulls left out; null when no run has it),
// with its [min, max] under "spread"; booleans hold only if they held in every run; the runs'
// measurement errors collected.
nlohmann::json MedianRow(const std::vector<nlohmann::json>& runs);

// The Markdown table of scheme rows (medians, ranges in parentheses).
void WriteFigureTable(std::ostream& md, const nlohmann::json& rows);

// What made the measurement: {"kind", "build_type", "sanitizers", "cxx_flags", "compiler",
// "allocator", "fault_injection", "commit"} and the machine {"cpu_model", "cores"}.
nlohmann::json BuildJson();
nlohmann::json MachineJson();

// "12.3 (11.9–12.8)": a row's figure with its range, or "—" when not measured.
std::string WithRange(const nlohmann::json& row, const char* key, const char* format);

}  // namespace rp::sim
