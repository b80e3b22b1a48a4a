// LiveMetrics: /metrics scrapes -> chart points (see run_data.h).
#include <algorithm>
#include <cmath>

#include "dashboard/run_data.h"

namespace rp::dash {
namespace {

// The route label rp-server gives its own /metrics endpoint.
constexpr const char* kMetricsRoute = "GET /metrics";

double Quantile(const LiveMetrics::Buckets& delta, double q) {
  if (delta.empty()) return 0;
  const double total = delta.rbegin()->second;
  if (total <= 0) return 0;
  const double rank = q * total;
  double prev_le = 0, prev_count = 0;
  for (const auto& [le, count] : delta) {
    if (count >= rank) {
      if (std::isinf(le)) return prev_le * 1000.0;  // Beyond the last bound: its lower edge.
      const double in_bucket = count - prev_count;
      const double f = in_bucket > 0 ? (rank - prev_count) / in_bucket : 1.0;
      return (prev_le + (le - prev_le) * f) * 1000.0;  // Seconds -> ms.
    }
    prev_le = le;
    prev_count = count;
  }
  return prev_le * 1000.0;
}

}  // namespace

double LiveMetrics::Rate(const std::string& key, double value, double t_s) {
  auto it = last_.find(key);
  double rate = -1;
  if (it != last_.end() && t_s > it->second.first) {
    const double delta = value >= it->second.second ? value - it->second.second : value;
    rate = delta / (t_s - it->second.first);
  }
  last_[key] = {t_s, value};
  return rate;  // -1: the first sight of this counter, no rate yet.
}

void LiveMetrics::AddLatencies(double t_s, const std::map<std::string, Buckets>& by_name,
                               const std::string& key_prefix) {
  for (const auto& [name, buckets] : by_name) {
    // The latency of the last interval: bucket counts minus the previous scrape's.
    Buckets delta;
    for (const auto& [le, count] : buckets) {
      const std::string key = "bucket " + key_prefix + name + " " + std::to_string(le);
      auto it = last_.find(key);
      delta[le] = it == last_.end() ? 0 : std::max(0.0, count - it->second.second);
      last_[key] = {t_s, count};
    }
    if (delta.empty() || delta.rbegin()->second <= 0) continue;
    data_.Series(Chart::kLatency, name + " p50").push_back({t_s, Quantile(delta, 0.5)});
    data_.Series(Chart::kLatency, name + " p99").push_back({t_s, Quantile(delta, 0.99)});
  }
}

void LiveMetrics::AddDown(double t_s) {
  data_.Series(Chart::kThroughput, "server up").push_back({t_s, 0});
}

Status LiveMetrics::AddScrape(double t_s, const std::string& text) {
  Result<std::vector<prom::Sample>> parsed = prom::ParseText(text);
  if (!parsed.ok()) return parsed.status();
  data_.time_axis = "seconds since rp-dash's first scrape (live)";
  std::map<std::string, double> requests_by_route, responses_by_status;
  std::map<std::string, Buckets> buckets_by_route, client_buckets_by_op;
  std::map<std::string, double> plain;
  auto label = [](const prom::Sample& s, const char* name) {
    auto it = s.labels.find(name);
    return it == s.labels.end() ? std::string("?") : it->second;
  };
  auto bound = [](const prom::Sample& s) {
    const std::string& le = s.labels.at("le");
    return le == "+Inf" ? INFINITY : std::strtod(le.c_str(), nullptr);
  };
  for (const prom::Sample& s : *parsed) {
    const bool scrape = s.labels.count("route") && s.labels.at("route") == kMetricsRoute;
    if (scrape) continue;  // Our own scrapes are not the system's load.
    if (s.name == "rp_http_requests_total") {
      requests_by_route[label(s, "route")] += s.value;
      responses_by_status[label(s, "status")] += s.value;
    } else if (s.name == "rp_http_request_duration_seconds_bucket" && s.labels.count("le")) {
      buckets_by_route[label(s, "route")][bound(s)] += s.value;
    } else if (s.name == "rp_sim_request_duration_seconds_bucket" && s.labels.count("le")) {
      // Polls wait for a payment on purpose: their latency is not the system's (as in replay).
      if (label(s, "op") != "poll") client_buckets_by_op[label(s, "op")][bound(s)] += s.value;
    } else {
      plain[s.name] += s.value;
    }
  }
  AddLatencies(t_s, client_buckets_by_op.empty() ? buckets_by_route : client_buckets_by_op,
               client_buckets_by_op.empty() ? "route " : "op ");
  for (const auto& [route, n] : requests_by_route) {
    const double r = Rate("req " + route, n, t_s);
    if (r >= 0) data_.Series(Chart::kThroughput, route).push_back({t_s, r});
  }
  for (const auto& [status, n] : responses_by_status) {
    const double r = Rate("status " + status, n, t_s);
    if (r >= 0 && status.size() == 3 && status[0] >= '4') {
      data_.Series(Chart::kErrors, "HTTP " + status).push_back({t_s, r});
    }
  }
  for (const ServerPlot& p : ServerPlots()) {
    if (!plain.count(p.metric)) continue;
    if (!p.rate) {
      data_.Series(p.chart, p.series).push_back({t_s, plain[p.metric]});
      continue;
    }
    const double r = Rate(p.metric, plain[p.metric], t_s);
    if (r >= 0) data_.Series(p.chart, p.series).push_back({t_s, r});
  }
  // rp-sim's side (--metrics-listen): what the generator offered and dropped.
  if (plain.count("rp_sim_arrivals_total")) {
    const double offered = Rate("rp_sim_arrivals_total", plain["rp_sim_arrivals_total"], t_s);
    const double dropped =
        Rate("rp_sim_arrivals_dropped_total", plain["rp_sim_arrivals_dropped_total"], t_s);
    if (offered >= 0) {
      data_.Series(Chart::kLoad, kStartedSeries).push_back({t_s, offered - std::max(0.0, dropped)});
    }
    if (dropped >= 0) data_.Series(Chart::kLoad, kDroppedSeries).push_back({t_s, dropped});
  }
  if (plain.count("rp_breakers_open")) {
    TrackBreakers(data_, t_s, plain["rp_breakers_open"], &breaker_band_open_);
  }
  return Status::Ok();
}

}  // namespace rp::dash
