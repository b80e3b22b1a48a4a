#include "simulator/results/junit.h"

#include "simulator/results/markup.h"

#include <cstdio>
#include <fstream>
#include <sstream>

namespace rp::sim {
namespace {

using nlohmann::json;

struct Case {
  std::string name;
  bool passed = false;
  std::string message;
};

std::vector<Case> CasesOf(const json& s) {
  std::vector<Case> cases;
  for (const json& c : s.value("checks", json::array())) {
    cases.push_back(
        {"check: " + c.value("check", ""), c.value("passed", false), c.value("detail", "")});
  }
  const json v = s.value("verification", json::object());
  std::string violations;
  for (const json& line : v.value("violations", json::array())) {
    violations += (violations.empty() ? "" : "\n") + line.get<std::string>();
  }
  cases.push_back({"money verification", v.value("ok", false),
                   violations.empty() ? "the verification did not pass" : violations});
  return cases;
}

}  // namespace

std::string JUnitXml(const std::vector<json>& summaries) {
  std::ostringstream out;
  int tests = 0, failures = 0;
  std::ostringstream suites;
  for (const json& s : summaries) {
    const std::vector<Case> cases = CasesOf(s);
    int failed = 0;
    for (const Case& c : cases) failed += c.passed ? 0 : 1;
    tests += static_cast<int>(cases.size());
    failures += failed;
    const json system = s.value("system", json::object());
    const std::string suite = s.value("scenario", "") + " [" + system.value("claim_scheme", "") +
                              ", " + system.value("ledger", "") + "]";
    char seconds[32];
    std::snprintf(seconds, sizeof seconds, "%.3f",
                  s.value("load", json::object()).value("duration_s", 0.0));
    suites << "  <testsuite name=\"" << EscapeMarkup(suite) << "\" tests=\"" << cases.size()
           << "\" failures=\"" << failed << "\" errors=\"0\" time=\"" << seconds
           << "\" timestamp=\"" << EscapeMarkup(s.value("started_at", "")) << "\">\n";
    const std::string classname = "rp-sim." + s.value("scenario", "");
    for (const Case& c : cases) {
      suites << "    <testcase classname=\"" << EscapeMarkup(classname) << "\" name=\""
             << EscapeMarkup(c.name) << "\"";
      if (c.passed) {
        suites << "/>\n";
        continue;
      }
      suites << ">\n      <failure message=\"" << EscapeMarkup(c.message) << "\">"
             << EscapeMarkup(c.message) << "</failure>\n    </testcase>\n";
    }
    suites << "  </testsuite>\n";
  }
  out << "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
      << "<testsuites name=\"rp-sim\" tests=\"" << tests << "\" failures=\"" << failures
      << "\" errors=\"0\">\n"
      << suites.str() << "</testsuites>\n";
  return out.str();
}

Status WriteJUnit(const std::string& path, const std::vector<json>& summaries) {
  std::ofstream out(path);
  out << JUnitXml(summaries);
  out.close();
  if (!out) return Status(Error::kInternal, "cannot write the JUnit file " + path);
  return Status::Ok();
}

}  // namespace rp::sim
