#include "dashboard/prometheus_source.h"

#include <httplib.h>

#include "common/results/results_format.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <ctime>

namespace rp::dash {
namespace {

using nlohmann::json;

// Unix seconds from "1796248019" or "2026-12-02T21:30:00Z" / "…:00.250Z"; false otherwise.
bool ParseInstant(const std::string& text, int64_t* unix_s) {
  if (!text.empty() && std::all_of(text.begin(), text.end(), ::isdigit) && text.size() <= 12) {
    *unix_s = std::stoll(text);
    return true;
  }
  std::tm tm{};
  int consumed = 0;
  if (std::sscanf(text.c_str(), "%4d-%2d-%2dT%2d:%2d:%2d%n", &tm.tm_year, &tm.tm_mon, &tm.tm_mday,
                  &tm.tm_hour, &tm.tm_min, &tm.tm_sec, &consumed) != 6) {
    return false;
  }
  size_t rest = static_cast<size_t>(consumed);
  if (rest < text.size() && text[rest] == '.') {
    ++rest;
    while (rest < text.size() && ::isdigit(static_cast<unsigned char>(text[rest]))) ++rest;
  }
  if (rest + 1 != text.size() || text[rest] != 'Z') return false;  // UTC only: say "Z".
  if (tm.tm_mon < 1 || tm.tm_mon > 12 || tm.tm_mday < 1 || tm.tm_mday > 31 || tm.tm_hour > 23 ||
      tm.tm_min > 59 || tm.tm_sec > 60) {
    return false;
  }
  tm.tm_year -= 1900;
  tm.tm_mon -= 1;
  *unix_s = static_cast<int64_t>(timegm(&tm));
  return true;
}

// "90s", "15m", "2h" -> seconds; false otherwise.
bool ParseSpan(const std::string& text, int64_t* seconds) {
  if (text.size() < 2 || text.size() > 8) return false;
  const std::string digits = text.substr(0, text.size() - 1);
  if (!std::all_of(digits.begin(), digits.end(), ::isdigit)) return false;
  const int64_t n = std::stoll(digits);
  const char unit = text.back();
  const int64_t per = unit == 's' ? 1 : unit == 'm' ? 60 : unit == 'h' ? 3600 : 0;
  if (per == 0 || n <= 0) return false;
  *seconds = n * per;
  return true;
}

Status BadWindow(const std::string& what) {
  return Status(Error::kBadConfig, what);
}

}  // namespace

Result<PrometheusWindow> ParsePrometheusWindow(const std::string& url, const std::string& from,
                                               const std::string& to, const std::string& last,
                                               int64_t step_s, int64_t now_unix_s) {
  PrometheusWindow w;
  const size_t colon = url.rfind(':');
  if (url.rfind("http://", 0) != 0 || colon == std::string::npos || colon < 7 ||
      std::atoi(url.c_str() + colon + 1) <= 0) {
    return Status(
        Error::kBadAddress,
        "--prometheus '" + url + "': expected http://HOST:PORT, e.g. http://127.0.0.1:9090");
  }
  w.url = url.back() == '/' ? url.substr(0, url.size() - 1) : url;
  if (!last.empty() && (!from.empty() || !to.empty())) {
    return BadWindow("--last goes alone; --from and --to name a window of their own");
  }
  w.to_unix_s = now_unix_s;
  if (!to.empty() && !ParseInstant(to, &w.to_unix_s)) {
    return BadWindow("--to '" + to +
                     "': expected RFC 3339 UTC (2026-12-02T21:30:00Z) or Unix seconds");
  }
  int64_t span = 15 * 60;
  if (!last.empty() && !ParseSpan(last, &span)) {
    return BadWindow("--last '" + last + "': expected a span like 90s, 15m or 2h");
  }
  w.from_unix_s = w.to_unix_s - span;
  if (!from.empty() && !ParseInstant(from, &w.from_unix_s)) {
    return BadWindow("--from '" + from +
                     "': expected RFC 3339 UTC (2026-12-02T21:30:00Z) or Unix seconds");
  }
  if (w.to_unix_s <= w.from_unix_s)
    return BadWindow("the window is empty: --to is not after --from");
  if (w.to_unix_s - w.from_unix_s > 31 * 86400)
    return BadWindow("the window is longer than 31 days");
  if (step_s < 0 || step_s > 86400) return BadWindow("--step must be 0 (automatic) to 86400 s");
  w.step_s = step_s > 0 ? step_s : std::max<int64_t>(1, (w.to_unix_s - w.from_unix_s) / 600);
  w.rate_window_s = std::max<int64_t>(20, 2 * w.step_s);
  return w;
}

std::vector<PrometheusQuery> DashboardQueries(const PrometheusWindow& w) {
  const std::string win = "[" + std::to_string(w.rate_window_s) + "s]";
  const std::string not_scrapes = "route!=\"GET /metrics\"";
  const std::string client_buckets = "rp_sim_request_duration_seconds_bucket{op!=\"poll\"}";
  auto quantile = [&](const char* q, const std::string& bucket, const std::string& by) {
    return "histogram_quantile(" + std::string(q) + ", sum by (" + by + ", le) (rate(" + bucket +
           win + ")))";
  };
  std::vector<PrometheusQuery> out = {
      // The client side first (rp-sim), as a results folder draws it; the server's own view
      // only when rp-sim was not scraped.
      {"sum by (op) (rate(rp_sim_requests_total" + win + "))", Chart::kThroughput, "", "op", 1,
       false, ""},
      {"sum by (route) (rate(rp_http_requests_total{" + not_scrapes + "}" + win + "))",
       Chart::kThroughput, "", "route", 1, false, "#client-throughput"},
      // Polls wait for a payment on purpose: their latency is not the system's (as in replay).
      {quantile("0.99", client_buckets, "op"), Chart::kLatency, " p99", "op", 1000, false, ""},
      {quantile("0.5", client_buckets, "op"), Chart::kLatency, " p50", "op", 1000, false, ""},
      {quantile("0.99", "rp_http_request_duration_seconds_bucket{" + not_scrapes + "}", "route"),
       Chart::kLatency, " p99", "route", 1000, false, "#client-latency"},
      {quantile("0.5", "rp_http_request_duration_seconds_bucket{" + not_scrapes + "}", "route"),
       Chart::kLatency, " p50", "route", 1000, false, "#client-latency"},
      {"sum by (status) (rate(rp_http_requests_total{status=~\"4..|5..\"," + not_scrapes + "}" +
           win + "))",
       Chart::kErrors, "", "status", 1, false, ""},
      {"sum(rate(rp_sim_arrivals_total" + win + ")) - (sum(rate(rp_sim_arrivals_dropped_total" +
           win + ")) or vector(0))",
       Chart::kLoad, kStartedSeries, "", 1, false, ""},
      {"sum(rate(rp_sim_arrivals_dropped_total" + win + "))", Chart::kLoad, kDroppedSeries, "", 1,
       false, ""},
  };
  for (const ServerPlot& p : ServerPlots()) {
    const std::string metric = p.metric;
    out.push_back({p.rate ? "sum(rate(" + metric + win + "))" : "sum(" + metric + ")", p.chart,
                   p.series, "", 1, metric == "rp_breakers_open", ""});
  }
  return out;
}

namespace {

// The name of a query's group for alternative_of: the first client query of each chart.
std::string GroupOf(const PrometheusQuery& q) {
  if (q.promql.find("rp_sim_requests_total") != std::string::npos) return "#client-throughput";
  if (q.promql.find("rp_sim_request_duration_seconds") != std::string::npos)
    return "#client-latency";
  return "";
}

}  // namespace

Result<RunData> RunDataFromAnswers(const PrometheusWindow& w,
                                   const std::vector<PrometheusQuery>& queries,
                                   const std::vector<json>& answers) {
  RunData d;
  d.time_axis = "seconds since " + results::UtcTime(w.from_unix_s * 1000) +
                " (a window read from Prometheus)";
  std::map<std::string, bool> group_has_data;
  bool band_open = false;
  for (size_t i = 0; i < queries.size() && i < answers.size(); ++i) {
    const PrometheusQuery& q = queries[i];
    const json& a = answers[i];
    if (!a.is_object() || a.value("status", "") != "success" || !a.contains("data") ||
        !a["data"].is_object() || a["data"].value("resultType", "") != "matrix" ||
        !a["data"].contains("result") || !a["data"]["result"].is_array()) {
      return Status(Error::kBadResults,
                    "Prometheus's answer to " + q.promql +
                        " is not a successful matrix: " + a.dump().substr(0, 200));
    }
    if (!q.alternative_of.empty() && group_has_data[q.alternative_of]) continue;
    const json& result = a["data"]["result"];
    if (!result.empty() && !GroupOf(q).empty()) group_has_data[GroupOf(q)] = true;
    for (const json& series : result) {
      if (!series.is_object() || !series.contains("values") || !series["values"].is_array()) {
        return Status(Error::kBadResults,
                      "Prometheus's answer to " + q.promql + " has a series without values");
      }
      std::string name = q.series;
      if (!q.name_label.empty()) {
        const json metric = series.value("metric", json::object());
        name = (metric.is_object() ? metric.value(q.name_label, std::string("?")) : "?") + q.series;
        if (q.chart == Chart::kErrors) name = "HTTP " + name;
      }
      for (const json& v : series["values"]) {
        if (!v.is_array() || v.size() != 2 || !v[0].is_number() || !v[1].is_string()) {
          return Status(Error::kBadResults,
                        "Prometheus's answer to " + q.promql + " has a malformed sample");
        }
        const double value = std::strtod(v[1].get<std::string>().c_str(), nullptr);
        const double t = v[0].get<double>() - static_cast<double>(w.from_unix_s);
        if (!std::isfinite(value)) continue;  // A quantile of nothing: a gap.
        d.Series(q.chart, name).push_back({t, value * q.scale});
        if (q.breakers) TrackBreakers(d, t, value, &band_open);
      }
    }
  }
  return d;
}

Result<RunData> LoadFromPrometheus(const PrometheusWindow& w) {
  httplib::Client client(w.url);
  client.set_connection_timeout(2, 0);
  client.set_read_timeout(30, 0);
  const std::vector<PrometheusQuery> queries = DashboardQueries(w);
  std::vector<json> answers;
  for (const PrometheusQuery& q : queries) {
    const httplib::Params params = {{"query", q.promql},
                                    {"start", std::to_string(w.from_unix_s)},
                                    {"end", std::to_string(w.to_unix_s)},
                                    {"step", std::to_string(w.step_s)}};
    auto r = client.Get("/api/v1/query_range", params, httplib::Headers{});
    if (!r) {
      const std::string why = r.error() == httplib::Error::Connection
                                  ? "cannot connect"
                                  : "httplib: " + httplib::to_string(r.error());
      return Status(Error::kConnectFailed,
                    "Prometheus at " + w.url + " does not answer (" + why + ")");
    }
    json body = json::parse(r->body, nullptr, false);
    if (r->status != 200) {
      const std::string why = body.is_object() ? body.value("error", r->body) : r->body;
      return Status(Error::kBadResults,
                    "Prometheus at " + w.url + " refused " + q.promql + ": " + why.substr(0, 300));
    }
    answers.push_back(std::move(body));
  }
  Result<RunData> d = RunDataFromAnswers(w, queries, answers);
  if (!d.ok()) return d;
  if (d->PointCount() == 0) {
    return Status(Error::kBadResults, "Prometheus at " + w.url +
                                          " has no Redpacket Lab series "
                                          "(rp_http_*, rp_sim_*, rp_* gauges) in that window");
  }
  d->header = "Prometheus " + w.url + " · " + results::UtcTime(w.from_unix_s * 1000) + " – " +
              results::UtcTime(w.to_unix_s * 1000) + " · step " + std::to_string(w.step_s) + " s";
  d->label = "prometheus";
  return d;
}

}  // namespace rp::dash
