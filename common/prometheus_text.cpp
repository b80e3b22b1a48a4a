#include "common/prometheus_text.h"

#include <cmath>
#include <cstdlib>
#include <limits>
#include <sstream>

namespace rp::prom {
namespace {

bool ParseNumber(const std::string& s, double* out) {
  if (s == "NaN") return *out = std::numeric_limits<double>::quiet_NaN(), true;
  if (s == "+Inf" || s == "Inf") return *out = std::numeric_limits<double>::infinity(), true;
  if (s == "-Inf") return *out = -std::numeric_limits<double>::infinity(), true;
  char* end = nullptr;
  *out = std::strtod(s.c_str(), &end);
  return !s.empty() && end == s.c_str() + s.size();
}

// Parses `{a="x",b="y\"z"}` starting at line[i] == '{'; leaves i after the '}'.
bool ParseLabels(const std::string& line, size_t& i, std::map<std::string, std::string>& out) {
  ++i;
  while (i < line.size() && line[i] != '}') {
    size_t eq = line.find('=', i);
    if (eq == std::string::npos || eq + 1 >= line.size() || line[eq + 1] != '"') return false;
    std::string key = line.substr(i, eq - i);
    std::string value;
    size_t j = eq + 2;
    for (; j < line.size() && line[j] != '"'; ++j) {
      if (line[j] == '\\' && j + 1 < line.size()) {
        ++j;
        value += line[j] == 'n' ? '\n' : line[j];
      } else {
        value += line[j];
      }
    }
    if (j >= line.size()) return false;  // Unterminated value.
    out[key] = value;
    i = j + 1;
    if (i < line.size() && line[i] == ',') ++i;
  }
  if (i >= line.size()) return false;
  ++i;
  return true;
}

}  // namespace

Result<std::vector<Sample>> ParseText(const std::string& text) {
  std::vector<Sample> samples;
  std::istringstream in(text);
  std::string line;
  int number = 0;
  while (std::getline(in, line)) {
    ++number;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.empty() || line[0] == '#') continue;
    Sample s;
    size_t i = 0;
    while (i < line.size() && line[i] != '{' && line[i] != ' ') ++i;
    s.name = line.substr(0, i);
    if (s.name.empty() || (i < line.size() && line[i] == '{' && !ParseLabels(line, i, s.labels))) {
      return Status(Error::kBadMetrics, "line " + std::to_string(number) + ": bad sample");
    }
    std::istringstream rest(line.substr(i));
    std::string value;
    rest >> value;
    if (!ParseNumber(value, &s.value)) {
      return Status(Error::kBadMetrics,
                    "line " + std::to_string(number) + ": '" + value + "' is not a number");
    }
    samples.push_back(std::move(s));
  }
  return samples;
}

double Sum(const std::vector<Sample>& samples, const std::string& name) {
  double total = 0;
  for (const Sample& s : samples) {
    if (s.name == name && std::isfinite(s.value)) total += s.value;
  }
  return total;
}

}  // namespace rp::prom
