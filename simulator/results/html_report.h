// report.html and compare.html: one self-contained page per run and per compare — the charts
// (requests/s, p99, errors and drops, the server's gauges and rates) with load phases and faults
// shaded behind them, the checks, the verification, the server's figures and the faults. Inline
// SVG and CSS only: no script, no font, no file fetched from anywhere, so it opens the same from
// a CI artifact, an e-mail or a laptop offline. Built from the results folder's own files, so an
// old folder can be rendered again. Thread-compatible.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

#include "common/status.h"

namespace rp::sim {

// The page of the results folder `dir` (summary.json, timeseries.csv, server_metrics.csv,
// faults.csv). kBadResults naming the file when one is missing or malformed.
Result<std::string> RunReportHtml(const std::string& dir);

// Writes dir/report.html from RunReportHtml(dir).
Status WriteRunReportHtml(const std::string& dir);

// compare.html: the table of compare.json (medians, ranges), the verdict, each scheme's
// runs linked to their own report.html (relative links inside the compare folder).
std::string CompareReportHtml(const nlohmann::json& compare);

}  // namespace rp::sim
