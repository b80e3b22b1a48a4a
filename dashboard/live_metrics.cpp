// LiveMetrics: /metrics scrapes -> chart points (see run_data.h).
#include <algorithm>
#include <cmath>

#include "dashboard/run_data.h"

namespace rp::dash {
namespace {

// Per-route histogram buckets (le -> cumulative count), summed over status labels.
using Buckets = std::map<double, double>;

double Quantile(const Buckets& delta, double q) {
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

void LiveMetrics::AddDown(double t_s) {
  data_.Series(Chart::kThroughput, "server up").push_back({t_s, 0});
}

Status LiveMetrics::AddScrape(double t_s, const std::string& text) {
  Result<std::vector<prom::Sample>> parsed = prom::ParseText(text);
  if (!parsed.ok()) return parsed.status();
  std::map<std::string, double> requests_by_route, responses_by_status;
  std::map<std::string, Buckets> buckets_by_route;
  std::map<std::string, double> plain;
  for (const prom::Sample& s : *parsed) {
    if (s.name == "rp_http_requests_total") {
      requests_by_route[s.labels.count("route") ? s.labels.at("route") : "?"] += s.value;
      responses_by_status[s.labels.count("status") ? s.labels.at("status") : "?"] += s.value;
    } else if (s.name == "rp_http_request_duration_seconds_bucket" && s.labels.count("le")) {
      const std::string& le = s.labels.at("le");
      const double bound = le == "+Inf" ? INFINITY : std::strtod(le.c_str(), nullptr);
      buckets_by_route[s.labels.count("route") ? s.labels.at("route") : "?"][bound] += s.value;
    } else {
      plain[s.name] += s.value;
    }
  }
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
  for (const auto& [route, buckets] : buckets_by_route) {
    // The latency of the last interval: bucket counts minus the previous scrape's.
    Buckets delta;
    for (const auto& [le, count] : buckets) {
      const std::string key = "bucket " + route + " " + std::to_string(le);
      auto it = last_.find(key);
      delta[le] = it == last_.end() ? 0 : std::max(0.0, count - it->second.second);
      last_[key] = {t_s, count};
    }
    if (delta.empty() || delta.rbegin()->second <= 0) continue;
    data_.Series(Chart::kLatency, route + " p50").push_back({t_s, Quantile(delta, 0.5)});
    data_.Series(Chart::kLatency, route + " p99").push_back({t_s, Quantile(delta, 0.99)});
  }
  auto gauge = [&](const char* name, Chart chart, const char* series) {
    if (plain.count(name)) data_.Series(chart, series).push_back({t_s, plain[name]});
  };
  auto rate = [&](const char* name, Chart chart, const char* series) {
    if (!plain.count(name)) return;
    const double r = Rate(name, plain[name], t_s);
    if (r >= 0) data_.Series(chart, series).push_back({t_s, r});
  };
  gauge("rp_lock_waiters", Chart::kContention, "lock waiters");
  rate("rp_lock_wait_seconds_total", Chart::kContention, "lock wait s/s");
  rate("rp_db_busy_retries_total", Chart::kContention, "DB busy retries/s");
  rate("rp_scheme_fallbacks_total", Chart::kContention, "scheme fallbacks/s");
  gauge("rp_queue_lag_seconds", Chart::kQueue, "task queue lag s");
  gauge("rp_ledger_queue_depth", Chart::kQueue, "ledger writer queue");
  gauge("rp_stream_backlog", Chart::kQueue, "stream backlog");
  gauge("recon_drift_cents", Chart::kDrift, "drift cents");
  gauge("recon_discrepancies", Chart::kDrift, "open discrepancies");
  rate("rp_limit_refused_total", Chart::kStability, "rate-limit 429s/s");
  rate("rp_limit_shadow_refused_total", Chart::kStability, "shadow refusals/s");
  rate("rp_degraded_answers_total", Chart::kStability, "degraded answers/s");
  gauge("rp_breakers_open", Chart::kStability, "breakers open");
  gauge("rp_feature_degraded", Chart::kStability, "features degraded");
  if (plain.count("rp_breakers_open")) {
    TrackBreakers(data_, t_s, plain["rp_breakers_open"], &breaker_band_open_);
  }
  return Status::Ok();
}

}  // namespace rp::dash
