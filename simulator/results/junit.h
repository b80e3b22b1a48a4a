// JUnit XML from run summaries, for CI systems (GitLab, Jenkins, GitHub test reporters): one
// <testsuite> per run (a compare makes one per claim scheme), one <testcase> per check —
// the scenario's, and the plan's own (dropped arrivals, faults applied, the load not aborted) —
// and one for the money verification. A failed case carries the check's detail as its message.
// Pure function plus one file write; thread-compatible.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "common/status.h"

namespace rp::sim {

// The XML document for these summary.json objects.
std::string JUnitXml(const std::vector<nlohmann::json>& summaries);

// Writes JUnitXml(summaries) to path. Internal when the file cannot be written.
Status WriteJUnit(const std::string& path, const std::vector<nlohmann::json>& summaries);

}  // namespace rp::sim
