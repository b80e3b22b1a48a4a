#include "simulator/results/html_report.h"

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <map>
#include <optional>
#include <sstream>

#include "common/ledger_engines.h"
#include "common/results/results_format.h"
#include "simulator/results/markup.h"
#include "simulator/results/results.h"
#include "simulator/results/svg_chart.h"
#include "simulator/scenario/fault_actions.h"

namespace rp::sim {
namespace {

using nlohmann::json;

constexpr const char* kPalette[] = {"#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#8c564b",
                                    "#e377c2", "#7f7f7f", "#bcbd22", "#17becf", "#ff7f0e"};
constexpr const char* kStyle = R"(<style>
body{font-family:sans-serif;margin:24px;color:#222;max-width:1000px}
h1{font-size:22px}h2{font-size:17px;margin-top:28px;border-bottom:1px solid #ddd}
table{border-collapse:collapse;font-size:13px}td,th{border:1px solid #ccc;padding:3px 8px;text-align:left}
th{background:#f3f3f3}.pass{color:#176317;font-weight:bold}.fail{color:#b00020;font-weight:bold}
.verdict{font-size:20px;padding:6px 12px;display:inline-block;border-radius:4px;color:#fff}
.verdict.pass{background:#2e7d32}.verdict.fail{background:#c62828}
svg.chart{display:block;margin:8px 0 16px 0;background:#fff}
svg .title{font-size:13px;font-weight:bold}svg .tick,svg .legend,svg .band{font-size:11px;fill:#444}
svg .axis{font-size:11px;fill:#666}svg .grid{stroke:#e5e5e5}
</style>
)";

std::string F(double v, int digits = 2) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", digits, v);
  return buf;
}

const char* Color(size_t i) {
  return kPalette[i % (sizeof kPalette / sizeof kPalette[0])];
}

// Phases (from the summary) and faults (from faults.csv) as bands behind every chart.
std::vector<SvgBand> Bands(const json& summary, const std::vector<results::FaultRow>& faults) {
  std::vector<SvgBand> bands;
  size_t i = 0;
  for (const json& p : summary.value("phases", json::array())) {
    const char* shade = i++ % 2 == 0 ? "rgba(70,130,180,0.08)" : "rgba(70,130,180,0.16)";
    bands.push_back(
        {p.value("start_s", 0.0), p.value("end_s", 0.0), shade, "phase " + p.value("name", "")});
  }
  // A fault that starts a condition (a switch, Redis stopped, an instance killed) shades until
  // the fault that ends it (or the same one again); the others mark their own moment.
  for (size_t k = 0; k < faults.size(); ++k) {
    const results::FaultRow& f = faults[k];
    double end = std::max(f.ended_s, f.started_s + 0.5);
    const std::optional<FaultAction> action = FindFaultAction(f.action);
    const auto ends = [&](const std::string& name) {
      if (name == f.action) return true;
      const std::optional<FaultAction> other = FindFaultAction(name);
      const auto& by = Info(*action).ended_by;
      return other && std::find(by.begin(), by.end(), *other) != by.end();
    };
    for (size_t j = k + 1; action && Info(*action).ended_by[0] && j < faults.size(); ++j) {
      if (ends(faults[j].action)) {
        end = faults[j].started_s;
        break;
      }
    }
    bands.push_back({f.started_s, end, f.ok ? "rgba(255,140,0,0.30)" : "rgba(200,0,0,0.35)",
                     f.action + (f.ok ? "" : " (did not apply)"), 1});
  }
  return bands;
}

// requests/s and p99 per operation, and errors and drops per second, from timeseries.csv.
std::string ClientCharts(const std::vector<results::TimeseriesRow>& rows,
                         const std::vector<SvgBand>& bands, double x_max) {
  std::map<std::string, SvgSeries> rate, p99;
  SvgSeries errors{"errors", "#b00020", {}}, dropped{"dropped arrivals", "#ff7f0e", {}};
  std::map<int64_t, double> errors_at;
  for (const results::TimeseriesRow& r : rows) {
    const double x = static_cast<double>(r.second) + 0.5;
    if (r.op == results::kDroppedArrival) {
      dropped.xy.push_back({x, static_cast<double>(r.requests)});
      continue;
    }
    if (r.op == results::kOfferedArrival) continue;  // Arrivals, not requests.
    rate[r.op].xy.push_back({x, static_cast<double>(r.requests)});
    p99[r.op].xy.push_back({x, r.p99_ms});
    errors_at[r.second] += static_cast<double>(r.errors);
  }
  for (const auto& [second, n] : errors_at) errors.xy.push_back({second + 0.5, n});
  SvgChart throughput{"Requests per second, by operation",
                      "seconds since the load started",
                      "requests/s",
                      x_max,
                      {},
                      bands};
  SvgChart latency{"p99 latency per second, by operation (from each request's intended start)",
                   "seconds since the load started",
                   "ms",
                   x_max,
                   {},
                   bands};
  size_t i = 0;
  for (auto& [op, s] : rate) {
    s.name = op;
    s.color = Color(i);
    p99[op].name = op;
    p99[op].color = Color(i++);
    throughput.series.push_back(s);
    latency.series.push_back(p99[op]);
  }
  SvgChart failures{"Errors and dropped arrivals per second",
                    "seconds since the load started",
                    "per second",
                    x_max,
                    {errors, dropped},
                    bands};
  return RenderSvg(throughput) + RenderSvg(latency) + RenderSvg(failures);
}

// The server's gauges as they were, its counters as rates, from server_metrics.csv.
std::string ServerCharts(const results::ServerMetricsTable& t, const std::vector<SvgBand>& bands,
                         double x_max) {
  SvgChart gauges{"Server gauges (summed over instances)",
                  "seconds since the load started",
                  "value",
                  x_max,
                  {},
                  bands};
  SvgChart rates{"Server counters, per second",
                 "seconds since the load started",
                 "per second",
                 x_max,
                 {},
                 bands};
  for (size_t c = 0; c < t.metrics.size(); ++c) {
    const std::string& name = t.metrics[c];
    const bool counter = name.size() > 6 && name.compare(name.size() - 6, 6, "_total") == 0;
    SvgSeries s{name, Color(counter ? rates.series.size() : gauges.series.size()), {}};
    double max_seen = 0;
    for (size_t i = 0; i < t.rows.size(); ++i) {
      if (t.rows[i].up == 0 || c >= t.rows[i].values.size()) continue;
      double v = t.rows[i].values[c];
      if (counter) {
        if (i == 0 || t.rows[i - 1].up == 0) continue;
        const double dt = t.rows[i].elapsed_s - t.rows[i - 1].elapsed_s;
        const double prev = t.rows[i - 1].values[c];
        v = dt > 0 ? (v >= prev ? v - prev : v) / dt : 0;  // A drop: restarted from zero.
      }
      max_seen = std::max(max_seen, v);
      s.xy.push_back({t.rows[i].elapsed_s, v});
    }
    if (max_seen <= 0) continue;  // A flat zero line says nothing: left out.
    (counter ? rates : gauges).series.push_back(std::move(s));
  }
  std::string out;
  if (!gauges.series.empty()) out += RenderSvg(gauges);
  if (!rates.series.empty()) out += RenderSvg(rates);
  return out.empty() ? "<p>No server series moved during the run.</p>\n" : out;
}

std::string ChecksTable(const json& summary) {
  std::ostringstream o;
  o << "<table><tr><th>check</th><th>kind</th><th>result</th><th>detail</th></tr>\n";
  for (const json& c : summary.value("checks", json::array())) {
    const bool ok = c.value("passed", false);
    o << "<tr><td>" << EscapeMarkup(c.value("check", "")) << "</td><td>"
      << EscapeMarkup(c.value("kind", "scenario")) << "</td><td class=\"" << (ok ? "pass" : "fail")
      << "\">" << (ok ? "pass" : "FAIL") << "</td><td>" << EscapeMarkup(c.value("detail", ""))
      << "</td></tr>\n";
  }
  return o.str() + "</table>\n";
}

std::string KeyValueTable(const json& object) {
  std::ostringstream o;
  o << "<table>\n";
  for (const auto& [k, v] : object.items()) {
    if (v.is_array() || v.is_object()) continue;
    o << "<tr><th>" << EscapeMarkup(k) << "</th><td>"
      << EscapeMarkup(v.is_number_float() ? F(v.get<double>(), 3)
                      : v.is_string()     ? v.get<std::string>()
                                          : v.dump())
      << "</td></tr>\n";
  }
  return o.str() + "</table>\n";
}

std::string OpsTable(const json& summary) {
  std::ostringstream o;
  o << "<table><tr><th>operation</th><th>requests</th><th>errors</th><th>per s</th><th>p50 ms</th>"
       "<th>p90 ms</th><th>p99 ms</th><th>max ms</th><th>429s</th><th>degraded</th>"
       "<th>unanswered</th></tr>\n";
  const json ops = summary.value("ops", json::object());  // Named: items() of a temporary dangles.
  for (const auto& [op, v] : ops.items()) {
    o << "<tr><td>" << EscapeMarkup(op) << "</td><td>" << v.value("requests", 0) << "</td><td>"
      << v.value("errors", 0) << "</td><td>" << F(v.value("throughput_per_s", 0.0), 1)
      << "</td><td>" << F(v.value("p50_ms", 0.0)) << "</td><td>" << F(v.value("p90_ms", 0.0))
      << "</td><td>" << F(v.value("p99_ms", 0.0)) << "</td><td>" << F(v.value("max_ms", 0.0))
      << "</td><td>" << v.value("refused", 0) << "</td><td>" << v.value("degraded", 0)
      << "</td><td>" << v.value("unanswered", 0) << "</td></tr>\n";
  }
  o << "</table>\n";
  if (const std::string unanswered = UnansweredText(summary); !unanswered.empty()) {
    o << "<p>Requests without an answer (a timeout, a connection refused or lost, a proxy's "
         "502/504) — "
      << EscapeMarkup(unanswered) << ".</p>\n";
  }
  return o.str();
}

std::string VerificationHtml(const json& v) {
  std::ostringstream o;
  const bool ok = v.value("ok", false);
  o << "<p class=\"" << (ok ? "pass" : "fail") << "\">"
    << (ok ? "Money verified" : "Money NOT verified") << "</p>\n";
  o << KeyValueTable(v);
  const json violations = v.value("violations", json::array());
  if (!violations.empty()) {
    o << "<ul>\n";
    for (const json& line : violations)
      o << "<li>" << EscapeMarkup(line.get<std::string>()) << "</li>\n";
    o << "</ul>\n";
  }
  return o.str();
}

std::string Page(const std::string& title, const std::string& body) {
  return "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>" +
         EscapeMarkup(title) + "</title>\n" + kStyle + "</head><body>\n" + body +
         "</body></html>\n";
}

Result<json> ReadSummary(const std::string& dir) {
  const std::string path = dir + "/" + results::kSummaryFile;
  std::ifstream in(path);
  json s = json::parse(in, nullptr, false);
  if (!in || s.is_discarded() || !s.is_object()) {
    return Status(Error::kBadResults, path + ": missing or not JSON");
  }
  return s;
}

}  // namespace

Result<std::string> RenderRunReport(const std::string& dir);

// A folder from anywhere (rp-sim report DIR): a summary field of the wrong type is bad_results,
// never an exception out of rp-sim.
Result<std::string> RunReportHtml(const std::string& dir) {
  try {
    return RenderRunReport(dir);
  } catch (const json::exception& e) {
    return Status(Error::kBadResults,
                  dir + "/" + results::kSummaryFile + ": not an rp-sim summary (" + e.what() + ")");
  }
}

Result<std::string> RenderRunReport(const std::string& dir) {
  Result<json> summary = ReadSummary(dir);
  if (!summary.ok()) return summary.status();
  auto ts = results::ReadTimeseries(dir + "/" + results::kTimeseriesFile);
  if (!ts.ok()) return ts.status();
  auto sm = results::ReadServerMetrics(dir + "/" + results::kServerMetricsFile);
  if (!sm.ok()) return sm.status();
  auto faults = results::ReadFaults(dir + "/" + results::kFaultsFile);
  if (!faults.ok()) return faults.status();
  const json& s = *summary;
  const json sys = s.value("system", json::object());
  const bool passed = s.value("passed", false);
  const double x_max = s.value("load", json::object()).value("duration_s", 0.0);
  const std::vector<SvgBand> bands = Bands(s, *faults);
  std::ostringstream b;
  b << "<h1>" << EscapeMarkup(s.value("scenario", "")) << " <span class=\"verdict "
    << (passed ? "pass\">PASSED" : "fail\">FAILED") << "</span></h1>\n<p>"
    << EscapeMarkup(s.value("description", "")) << "</p>\n<p>scheme <b>"
    << EscapeMarkup(sys.value("claim_scheme", "")) << "</b>, "
    << EscapeMarkup(results::DescribeSystem(sys.value("ledger", std::string(kSqliteEngine)),
                                            sys.value("instances", 1),
                                            sys.value("started_by_rp_sim", true)))
    << ", seed " << s.value("seed", 0) << ", started " << EscapeMarkup(s.value("started_at", ""))
    << ", rp-sim " << EscapeMarkup(s.value("versions", json::object()).value("rp_sim", ""))
    << "</p>\n";
  b << "<h2>Checks</h2>\n" << ChecksTable(s);
  b << "<h2>Load</h2>\n"
    << ClientCharts(*ts, bands, x_max) << OpsTable(s)
    << KeyValueTable(s.value("load", json::object()));
  b << "<h2>Server</h2>\n"
    << ServerCharts(*sm, bands, x_max) << KeyValueTable(s.value("server", json::object()));
  b << "<h2>Verification</h2>\n" << VerificationHtml(s.value("verification", json::object()));
  b << "<h2>Faults</h2>\n<table><tr><th>planned s</th><th>started s</th><th>ended s</th>"
       "<th>action</th><th>applied</th><th>detail</th></tr>\n";
  for (const results::FaultRow& f : *faults) {
    b << "<tr><td>" << F(f.planned_s, 1) << "</td><td>" << F(f.started_s, 1) << "</td><td>"
      << F(f.ended_s, 1) << "</td><td>" << EscapeMarkup(f.action) << "</td><td class=\""
      << (f.ok ? "pass\">yes" : "fail\">no") << "</td><td>" << EscapeMarkup(f.detail)
      << "</td></tr>\n";
  }
  b << "</table>\n";
  return Page(s.value("scenario", "rp-sim run") + (passed ? " — passed" : " — FAILED"), b.str());
}

Status WriteRunReportHtml(const std::string& dir) {
  Result<std::string> html = RunReportHtml(dir);
  if (!html.ok()) return html.status();
  std::ofstream out(dir + "/report.html");
  out << *html;
  out.close();
  return out ? Status::Ok() : Status(Error::kInternal, "cannot write " + dir + "/report.html");
}

std::string CompareReportHtml(const json& compare) {
  std::ostringstream b;
  const json verdict = compare.value("verdict", json::array());
  b << "<h1>Claim schemes on " << EscapeMarkup(compare.value("scenario", "")) << "</h1>\n";
  if (!verdict.empty())
    b << "<p><b>" << EscapeMarkup(verdict[0].get<std::string>()) << "</b></p>\n";
  b << "<p>" << compare.value("repeats", 1) << " run(s) per scheme, load "
    << EscapeMarkup(compare.value("load", ""))
    << "; medians, ranges over the runs in parentheses.</p>\n";
  b << "<table><tr><th>scheme</th><th>runs</th><th>CPU ms / claim</th>"
       "<th>statements / claim</th><th>Redis trips / claim</th><th>claims/s</th>"
       "<th>÷ ceiling</th><th>won</th><th>p50 ms</th><th>p99 ms</th>"
       "<th>claim commits/claim</th><th>passed</th></tr>\n";
  auto range = [](const json& r, const char* key, int digits) {
    const json value = r.value(key, json());
    if (!value.is_number()) return std::string("—");
    const std::string v = F(value.get<double>(), digits);
    if (!r.contains("spread") || !r["spread"].contains(key)) return v;
    return v + " (" + F(r["spread"][key][0].get<double>(), digits) + "–" +
           F(r["spread"][key][1].get<double>(), digits) + ")";
  };
  for (const json& r : compare.value("schemes", json::array())) {
    const std::string scheme = r.value("scheme", "");
    const int runs = r.value("runs", 1);
    b << "<tr><td>" << EscapeMarkup(scheme) << "</td><td>";
    for (int i = 1; i <= runs; ++i) {
      const std::string href =
          scheme + (runs > 1 ? "/run-" + std::to_string(i) : "") + "/report.html";
      b << "<a href=\"" << EscapeMarkup(href) << "\">" << i << "</a> ";
    }
    b << "</td><td>" << range(r, "cpu_ms_per_claim", 3) << "</td><td>"
      << range(r, "statements_per_claim", 2) << "</td><td>"
      << range(r, "redis_round_trips_per_claim", 2) << "</td><td>" << range(r, "claims_per_s", 0)
      << "</td><td>" << range(r, "claims_per_s_per_ceiling", 3) << "</td><td>"
      << range(r, "claims_won", 0) << "</td><td>" << range(r, "claim_p50_ms", 2) << "</td><td>"
      << range(r, "claim_p99_ms", 1) << "</td><td>" << range(r, "claim_commits_per_claim", 3)
      << "</td><td class=\"" << (r.value("passed", false) ? "pass\">yes" : "fail\">no")
      << "</td></tr>\n";
  }
  b << "</table>\n<h2>Reasons</h2>\n<ul>\n";
  for (const json& line : compare.value("verdict", json::array())) {
    b << "<li>" << EscapeMarkup(line.get<std::string>()) << "</li>\n";
  }
  b << "</ul>\n";
  return Page("rp-sim compare " + compare.value("scenario", ""), b.str());
}

}  // namespace rp::sim
