#include "simulator/results/junit.h"

#include "simulator/results/markup.h"

#include <cstdio>
#include <fstream>
#include <map>
#include <sstream>

namespace rp::sim {
namespace {

using nlohmann::json;

std::vector<JUnitCase> CasesOf(const json& s) {
  std::vector<JUnitCase> cases;
  for (const json& c : s.value("checks", json::array())) {
    cases.push_back(
        {"check: " + c.value("check", ""), c.value("passed", false), false, c.value("detail", "")});
  }
  const json v = s.value("verification", json::object());
  std::string violations;
  for (const json& line : v.value("violations", json::array())) {
    violations += (violations.empty() ? "" : "\n") + line.get<std::string>();
  }
  cases.push_back({"money verification", v.value("ok", false), false,
                   violations.empty() ? "the verification did not pass" : violations});
  return cases;
}

std::string SuiteNameOf(const json& s) {
  const json system = s.value("system", json::object());
  return s.value("scenario", "") + " [" + system.value("claim_scheme", "") + ", " +
         system.value("ledger", "") + "]";
}

void WriteSuite(std::ostringstream& out, const std::string& name, const std::string& classname,
                const std::vector<JUnitCase>& cases, const std::string& seconds,
                const std::string& timestamp) {
  int failed = 0, skipped = 0;
  for (const JUnitCase& c : cases) {
    failed += !c.passed && !c.skipped ? 1 : 0;
    skipped += c.skipped ? 1 : 0;
  }
  out << "  <testsuite name=\"" << EscapeMarkup(name) << "\" tests=\"" << cases.size()
      << "\" failures=\"" << failed << "\" errors=\"0\" skipped=\"" << skipped << "\" time=\""
      << seconds << "\"";
  if (!timestamp.empty()) out << " timestamp=\"" << EscapeMarkup(timestamp) << "\"";
  out << ">\n";
  for (const JUnitCase& c : cases) {
    out << "    <testcase classname=\"" << EscapeMarkup(classname) << "\" name=\""
        << EscapeMarkup(c.name) << "\"";
    if (c.passed && !c.skipped) {
      out << "/>\n";
      continue;
    }
    out << ">\n      <" << (c.skipped ? "skipped" : "failure") << " message=\""
        << EscapeMarkup(c.message) << "\">" << EscapeMarkup(c.message) << "</"
        << (c.skipped ? "skipped" : "failure") << ">\n    </testcase>\n";
  }
  out << "  </testsuite>\n";
}

}  // namespace

std::string JUnitXml(const std::vector<json>& summaries, const std::vector<JUnitSuite>& extra) {
  std::map<std::string, int> uses, seen;
  for (const json& s : summaries) ++uses[SuiteNameOf(s)];
  int tests = 0, failures = 0;
  std::ostringstream suites;
  auto count = [&](const std::vector<JUnitCase>& cases) {
    tests += static_cast<int>(cases.size());
    for (const JUnitCase& c : cases) failures += !c.passed && !c.skipped ? 1 : 0;
  };
  for (const json& s : summaries) {
    std::string name = SuiteNameOf(s);
    if (uses[name] > 1) name += " run-" + std::to_string(++seen[name]);
    const std::vector<JUnitCase> cases = CasesOf(s);
    count(cases);
    char seconds[32];
    std::snprintf(seconds, sizeof seconds, "%.3f",
                  s.value("load", json::object()).value("duration_s", 0.0));
    WriteSuite(suites, name, "rp-sim." + s.value("scenario", ""), cases, seconds,
               s.value("started_at", ""));
  }
  for (const JUnitSuite& suite : extra) {
    count(suite.cases);
    WriteSuite(suites, suite.name, "rp-sim.gate", suite.cases, "0.000", "");
  }
  std::ostringstream out;
  out << "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
      << "<testsuites name=\"rp-sim\" tests=\"" << tests << "\" failures=\"" << failures
      << "\" errors=\"0\">\n"
      << suites.str() << "</testsuites>\n";
  return out.str();
}

Status WriteJUnit(const std::string& path, const std::vector<json>& summaries,
                  const std::vector<JUnitSuite>& extra) {
  std::ofstream out(path);
  out << JUnitXml(summaries, extra);
  out.close();
  if (!out) return Status(Error::kInternal, "cannot write the JUnit file " + path);
  return Status::Ok();
}

}  // namespace rp::sim
