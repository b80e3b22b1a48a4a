#include "simulator/scenario/check.h"

#include <cctype>
#include <cmath>
#include <cstdlib>
#include <set>
#include <string_view>
#include <vector>

namespace rp::sim {
namespace {

constexpr const char* kForms =
    " (like 'p99(claim) < 50ms', 'p99.9(claim, phase=peak) < 200ms', 'avg(send) < 20ms', "
    "'error_rate(claim) < 0.5%', 'throughput(claim) > 100/s', 'max(rp_queue_lag_seconds) < 5', "
    "'rate(rp_scheme_fallbacks_total) == 0', 'recon.drift == 0'; see docs/scenarios.md)";

Status Bad(const std::string& text, const std::string& why) {
  return Status(Error::kBadCheck, "check '" + text + "' " + why + kForms);
}

bool IsNameChar(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '.' || c == ':';
}

// "p99" -> 0.99, "p99.99" -> 0.9999, "med" -> 0.5, "max" -> 1, "min" -> 0; -1 otherwise.
double QuantileOf(const std::string& stat) {
  if (stat == "med") return 0.5;
  if (stat == "max") return 1.0;
  if (stat == "min") return 0.0;
  if (stat.size() < 2 || stat[0] != 'p' || !std::isdigit(static_cast<unsigned char>(stat[1]))) {
    return -1;
  }
  char* end = nullptr;
  const double pct = std::strtod(stat.c_str() + 1, &end);
  if (*end != '\0' || !(pct > 0) || pct >= 100) return -1;
  return pct / 100.0;
}

bool IsSeriesName(const std::string& arg) {
  return arg.rfind("rp_", 0) == 0 || arg.rfind("recon_", 0) == 0;
}

// The arguments of "stat(a, phase=b)": sets op or series and phase.
Status ReadArguments(const std::string& args, CheckSpec& c) {
  std::vector<std::string> parts;
  size_t from = 0;
  for (size_t comma; (comma = args.find(',', from)) != std::string::npos; from = comma + 1) {
    parts.push_back(args.substr(from, comma - from));
  }
  parts.push_back(args.substr(from));
  if (parts[0].empty()) return Bad(c.text, "needs an operation or a series in parentheses");
  for (size_t i = 1; i < parts.size(); ++i) {
    if (parts[i].rfind("phase=", 0) != 0 || parts[i].size() == 6 || !c.phase.empty()) {
      return Bad(c.text, "takes one 'phase=NAME' after the operation, nothing else");
    }
    c.phase = parts[i].substr(6);
  }
  if (IsSeriesName(parts[0])) {
    c.source = CheckSource::kServerSeries;
    c.series = parts[0];
    if (c.series.find_first_not_of(
            "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_:") !=
        std::string::npos) {
      return Bad(c.text, "has a bad series name");
    }
  } else {
    c.op = parts[0];
    if (c.op.find_first_not_of("abcdefghijklmnopqrstuvwxyz_") != std::string::npos) {
      return Bad(c.text, "has a bad operation name");
    }
  }
  return Status::Ok();
}

// Which statistics apply where; the unit the limit must be written in.
Status ClassifyStatistic(CheckSpec& c) {
  static const std::set<std::string> kSeriesStats = {"max",  "min",      "avg",
                                                     "last", "increase", "rate"};
  static const std::set<std::string> kClientPlain = {"error_rate", "refused_rate", "throughput",
                                                     "count",      "degraded",     "recovery_s"};
  if (c.source == CheckSource::kServerSeries) {
    if (!kSeriesStats.count(c.metric)) {
      return Bad(c.text,
                 "applies " + c.metric +
                     " to a server series; those take max, min, avg, last, increase or rate");
    }
    return Status::Ok();
  }
  std::string stat = c.metric;
  bool latency_only = false;  // admitted_ and ok_ prefix latency statistics only.
  for (const std::string_view prefix : {"admitted_", "ok_"}) {
    if (stat.rfind(prefix, 0) != 0) continue;
    stat = stat.substr(prefix.size());
    latency_only = true;
    break;
  }
  c.quantile = QuantileOf(stat);
  if (c.quantile < 0 && stat != "avg" && (latency_only || !kClientPlain.count(stat))) {
    return Bad(c.text, "is not a known statistic");
  }
  const bool per_second_only = latency_only || stat == "degraded" || stat == "recovery_s";
  if (!c.phase.empty() && per_second_only) {
    return Bad(c.text, "cannot be taken per phase (" + c.metric + " is kept for the whole run)");
  }
  return Status::Ok();
}

// The number and unit after the comparison; converts the limit to the metric's base unit.
Status ReadLimit(const std::string& rest, CheckSpec& c) {
  char* end = nullptr;
  c.threshold = std::strtod(rest.c_str(), &end);
  if (end == rest.c_str() || !std::isfinite(c.threshold) || c.threshold < 0) {
    return Bad(c.text, "needs a non-negative number as its limit");
  }
  c.unit = end;
  if (c.source == CheckSource::kServerSeries) {
    if (!c.unit.empty() && !(c.metric == "rate" && c.unit == "/s")) {
      return Bad(c.text, "compares a series in its own unit: write no unit");
    }
    return Status::Ok();
  }
  if (c.IsLatency()) {
    if (c.unit == "us" || c.unit == "\xC2\xB5s") {
      c.unit_per_base = 1000;
    } else if (c.unit == "s") {
      c.unit_per_base = 0.001;
    } else if (c.unit != "ms") {
      return Bad(c.text, "needs a latency unit: us, ms or s");
    }
    c.threshold /= c.unit_per_base;
    return Status::Ok();
  }
  const bool percent = c.metric == "error_rate" || c.metric == "refused_rate";
  const bool per_second = c.metric == "throughput" || c.metric == "rate";
  const char* want = percent ? "%" : c.metric == "recovery_s" ? "s" : per_second ? "/s" : "";
  if (c.unit != want && !(per_second && c.unit.empty())) {
    return Bad(c.text, std::string("needs ") +
                           (*want ? std::string("its limit in ") + want : "a plain number"));
  }
  return Status::Ok();
}

}  // namespace

std::string CheckSpec::Subject() const {
  if (source == CheckSource::kServerFigure || source == CheckSource::kRecon) return metric;
  std::string s = metric + "(" + (series.empty() ? op : series);
  if (!phase.empty()) s += ", phase=" + phase;
  return s + ")";
}

// A small hand parser: std::regex trips GCC 12's -Wmaybe-uninitialized under the sanitizers.
Result<CheckSpec> ParseCheck(const std::string& text) {
  std::string t;
  for (char ch : text) {
    if (ch != ' ' && ch != '\t') t += ch;
  }
  CheckSpec c;
  c.text = text;
  size_t i = 0;
  while (i < t.size() && IsNameChar(t[i])) ++i;
  c.metric = t.substr(0, i);
  if (i < t.size() && t[i] == '(') {
    const size_t close = t.find(')', i);
    if (close == std::string::npos) return Bad(text, "has no closing parenthesis");
    if (Status st = ReadArguments(t.substr(i + 1, close - i - 1), c); !st.ok()) return st;
    if (Status st = ClassifyStatistic(c); !st.ok()) return st;
    i = close + 1;
  } else if (c.metric.rfind("server.", 0) == 0) {
    c.source = CheckSource::kServerFigure;
    static const std::set<std::string> kServer = {
        "limit_refusals",    "limit_shadow_refusals", "degraded_answers",
        "breakers_open_max", "breakers_open_last",    "scheme_fallbacks",
        "redis_errors",      "db_busy_retries",       "commits_per_claim_attempt",
        "claim_attempts"};
    if (c.metric == "server.claims" || c.metric == "server.commits_per_claim") {
      return Bad(text,
                 "names a figure that was renamed: it counted claim attempts, not claims "
                 "won (server.claim_attempts, server.commits_per_claim_attempt)");
    }
    if (!kServer.count(c.metric.substr(7))) {
      std::string known;
      for (const std::string& k : kServer) known += (known.empty() ? "server." : ", server.") + k;
      return Bad(text, "names no server figure (" + known + ")");
    }
  } else if (c.metric == "recon.drift" || c.metric == "recon.discrepancies") {
    c.source = CheckSource::kRecon;
  } else if (QuantileOf(c.metric) >= 0 || c.metric == "avg" || c.metric == "error_rate") {
    return Bad(text, "needs an operation in parentheses");
  } else {
    return Bad(text, "is not a known metric");
  }
  for (const char* op : {"<=", ">=", "==", "<", ">"}) {
    if (t.compare(i, std::string(op).size(), op) == 0) {
      c.comparison = op;
      i += c.comparison.size();
      break;
    }
  }
  if (c.comparison.empty()) return Bad(text, "needs one of < <= > >= ==");
  if (Status st = ReadLimit(t.substr(i), c); !st.ok()) return st;
  return c;
}

}  // namespace rp::sim
