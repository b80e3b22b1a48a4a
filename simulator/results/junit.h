// JUnit XML from run summaries, for CI systems (GitLab, Jenkins, GitHub test reporters): one
// <testsuite> per run (a compare makes one per claim scheme and repeat), one <testcase> per
// check — the scenario's, and the plan's own (dropped arrivals, faults applied, the load not
// aborted) — and one for the money verification; then any suites the caller adds (regress: one
// case per gated figure per scheme). A failed case carries its detail as its message. Suite names
// are unique: runs that would share one ("ci_regress [db_lock, sqlite]") are numbered
// ("... run-2"), so reporters do not merge them. Pure function plus one file write.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "common/status.h"

namespace rp::sim {

struct JUnitCase {
  std::string name;
  bool passed = true;
  bool skipped = false;  // Not judged (e.g. a figure the baseline does not have).
  std::string message;   // The failure's or the skip's reason.
};

struct JUnitSuite {
  std::string name;
  std::vector<JUnitCase> cases;
};

// The XML document for these summary.json objects, then `extra` suites.
std::string JUnitXml(const std::vector<nlohmann::json>& summaries,
                     const std::vector<JUnitSuite>& extra = {});

// Writes JUnitXml(summaries, extra) to path. Internal when the file cannot be written.
Status WriteJUnit(const std::string& path, const std::vector<nlohmann::json>& summaries,
                  const std::vector<JUnitSuite>& extra = {});

}  // namespace rp::sim
