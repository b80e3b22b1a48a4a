// PrometheusSource: a past window of a Redpacket Lab system read back from a Prometheus server
// (`rp-dash --prometheus URL`), as the same RunData a results folder or a live scrape gives —
// so a run that has no results folder (a deployment, a load test driven by another tool) can be
// drawn after the fact. Each chart is one or a few PromQL range queries (/api/v1/query_range)
// over the jobs of ops/prometheus/: rp-server's series summed over its instances, and rp-sim's
// client side when it was scraped (intended-start latency per operation, arrivals, drops).
// Thread-compatible; Load blocks on the network.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "common/status.h"
#include "dashboard/run_data.h"

namespace rp::dash {

struct PrometheusWindow {
  std::string url;  // http://HOST:PORT of the Prometheus server (its HTTP API).
  int64_t from_unix_s = 0;
  int64_t to_unix_s = 0;
  int64_t step_s = 1;  // Resolution of the range queries.
  // rate() windows: wide enough to hold several scrapes (ops/prometheus scrapes every 5 s).
  int64_t rate_window_s = 20;
};

// The window from the command line: `from`/`to` as RFC 3339 UTC ("2026-12-02T21:30:00Z",
// fractions allowed) or Unix seconds, or `last` ("90s", "15m", "2h") ending at now_unix_s;
// none of them: the last 15 minutes. step 0: automatic (about 600 points, at least 1 s).
// InvalidArgument (bad_config) naming the value for anything else, an empty or reversed
// window, or a URL that is not http://HOST:PORT.
Result<PrometheusWindow> ParsePrometheusWindow(const std::string& url, const std::string& from,
                                               const std::string& to, const std::string& last,
                                               int64_t step_s, int64_t now_unix_s);

// One range query of the dashboard: its PromQL, and where each resulting series is drawn.
struct PrometheusQuery {
  std::string promql;
  Chart chart;
  std::string series;          // Legend name; with name_label, a suffix after the label's value.
  std::string name_label;      // Empty: one series. Else e.g. "route": one series per value.
  double scale = 1;            // e.g. 1000 for seconds -> ms.
  bool breakers = false;       // Also the breaker-open bands.
  std::string alternative_of;  // Drawn only when the query with this series name came back empty.
};

// The queries for a window (their PromQL depends on its rate window).
std::vector<PrometheusQuery> DashboardQueries(const PrometheusWindow& window);

// Turns the answers (one /api/v1/query_range JSON body per query, same order) into chart
// points, times in seconds since window.from. bad_results naming the query for an answer that
// is not a successful matrix. NaN and ±Inf samples (a quantile of no requests) are gaps.
Result<RunData> RunDataFromAnswers(const PrometheusWindow& window,
                                   const std::vector<PrometheusQuery>& queries,
                                   const std::vector<nlohmann::json>& answers);

// Runs every query against window.url (timeouts: 2 s connect, 30 s read). Unavailable when
// Prometheus does not answer; bad_results when it refuses a query (its error quoted) or the
// window holds no Redpacket Lab series at all.
Result<RunData> LoadFromPrometheus(const PrometheusWindow& window);

}  // namespace rp::dash
