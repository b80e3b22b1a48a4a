#include "simulator/checks/evaluate.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <map>
#include <set>

namespace rp::sim {
namespace {

// Whole numbers as they are (counts: "1234", not "1234.00"), else two decimals, or three
// significant digits below 1 (0.0034 s stays readable).
std::string Fixed(double v, int digits = 2) {
  char buf[64];
  if (std::isfinite(v) && std::fabs(v) < 1e15 && std::floor(v) == v) {
    std::snprintf(buf, sizeof buf, "%.0f", v);
  } else if (v != 0 && std::fabs(v) < 1) {
    std::snprintf(buf, sizeof buf, "%.3g", v);
  } else {
    std::snprintf(buf, sizeof buf, "%.*f", digits, v);
  }
  return buf;
}

bool Compare(double actual, const std::string& op, double limit) {
  if (op == "<") return actual < limit;
  if (op == "<=") return actual <= limit;
  if (op == ">") return actual > limit;
  if (op == ">=") return actual >= limit;
  return actual == limit;
}

// The seconds of one operation's per-second stats inside [start_s, end_s), merged.
SecondStats MergeSeconds(const OpStats& op, double start_s, double end_s) {
  SecondStats out;
  const size_t from = static_cast<size_t>(std::max(0.0, start_s));
  const size_t to =
      std::min(op.seconds.size(), static_cast<size_t>(std::max(0.0, std::ceil(end_s))));
  for (size_t i = from; i < to; ++i) {
    const SecondStats& s = op.seconds[i];
    out.requests += s.requests;
    out.errors += s.errors;
    out.refused += s.refused;
    for (auto [code, n] : s.by_status) out.by_status[code] += n;
    out.latency.Merge(s.latency);
  }
  return out;
}

double LatencyMs(const LatencyHistogram& h, const CheckSpec& c) {
  if (c.quantile < 0) return h.mean_us() / 1000.0;  // avg, admitted_avg, ok_avg.
  if (c.quantile == 0) return static_cast<double>(h.min_us()) / 1000.0;
  if (c.quantile == 1) return static_cast<double>(h.max_us()) / 1000.0;
  return static_cast<double>(h.ValueAtQuantile(c.quantile)) / 1000.0;
}

// The errors among answers by status, for messages: "501: 1200", "no answer: 3, 503: 10".
std::string ErrorsByStatus(const std::map<int, int64_t>& by_status) {
  std::string out;
  for (auto [code, n] : by_status) {
    if (!IsError(code)) continue;
    out += (out.empty() ? "" : ", ") + (code == 0 ? "no answer" : std::to_string(code)) + ": " +
           std::to_string(n);
  }
  return out;
}

// A latency statistic over s (the whole run's answers or one phase's). The latency of an error
// (a fast 501) says nothing of how fast the service is, so with no successful answer among those
// it times there is nothing to judge (nullopt, *why says so); with some errors among them,
// *note says how many.
std::optional<double> LatencyValue(const CheckSpec& c, const OpStats& op, const SecondStats& s,
                                   std::string* why, std::string* note) {
  const std::string errors = " (" + ErrorsByStatus(s.by_status) + ")";
  const std::string nothing_to_time = ": no successful answer to time";
  const bool ok_only = c.metric.rfind("ok_", 0) == 0;
  const bool admitted = c.metric.rfind("admitted_", 0) == 0;
  const int64_t timed = admitted ? s.requests - s.refused : s.requests;
  if (timed == 0) {  // Only admitted_ leaves answers out before this: every one was a 429.
    *why = "every one of the " + std::to_string(s.requests) + " " + c.op +
           " answers was refused (429): no admitted answer to time";
    return std::nullopt;
  }
  if (timed == s.errors) {
    *why = "every one of the " + std::to_string(timed) + " " + c.op + " answers was an error" +
           errors + nothing_to_time;
    return std::nullopt;
  }
  if (s.errors > 0 && ok_only) {
    *note = "; leaves out the " + std::to_string(s.errors) + " error answers of " +
            std::to_string(s.requests) + errors;
  } else if (s.errors > 0) {
    *note = "; " + std::to_string(s.errors) + " of the " + std::to_string(timed) +
            " answers timed were errors" + errors;
  }
  const LatencyHistogram& h = ok_only ? op.ok_latency : admitted ? op.admitted_latency : s.latency;
  return LatencyMs(h, c);
}

// A client statistic over the whole run or one phase; nullopt with *why when nothing to judge.
// *note: what the reader of the verdict should also know (errors among the answers timed).
std::optional<double> ClientValue(const CheckSpec& c, const CheckInputs& in, std::string* why,
                                  std::string* note) {
  auto it = in.stats->ops().find(c.op);
  if (it == in.stats->ops().end() || it->second.requests == 0) {
    *why = "no " + c.op + " requests were made";
    return std::nullopt;
  }
  const OpStats& op = it->second;
  if (c.metric == "degraded") return static_cast<double>(op.degraded);
  if (c.metric == "recovery_s") {
    const double s = in.stats->RecoveryS(c.op, BusiestEndS(*in.scenario));
    if (s < 0) *why = c.op + " never recovered after the busiest phase";
    return s < 0 ? std::nullopt : std::optional<double>(s);
  }
  SecondStats s;
  double span_s = in.load_seconds;
  if (c.phase.empty()) {
    s.requests = op.requests;
    s.errors = op.errors;
    s.refused = op.refused;
    s.by_status = op.by_status;
    s.latency = op.latency;
  } else {
    double start_s = 0, end_s = 0;
    if (!PhaseWindow(in.scenario->load.phases, c.phase, &start_s, &end_s)) {
      *why = "the scenario has no phase " + c.phase;
      return std::nullopt;
    }
    s = MergeSeconds(op, start_s, end_s);
    span_s = end_s - start_s;
    if (s.requests == 0) {
      *why = "no " + c.op + " requests completed during phase " + c.phase;
      return std::nullopt;
    }
  }
  if (c.IsLatency()) return LatencyValue(c, op, s, why, note);
  const double n = static_cast<double>(s.requests);
  if (c.metric == "error_rate") return 100.0 * static_cast<double>(s.errors) / n;
  if (c.metric == "refused_rate") return 100.0 * static_cast<double>(s.refused) / n;
  if (c.metric == "count") return n;
  return span_s > 0 ? n / span_s : 0.0;  // throughput.
}

size_t ColumnOf(const CheckInputs& in, const std::string& name) {
  const std::vector<std::string>& cols = *in.server_columns;
  return static_cast<size_t>(std::find(cols.begin(), cols.end(), name) - cols.begin());
}

// A server series statistic over the scrapes inside the window (the whole run or a phase).
std::optional<double> SeriesValue(const CheckSpec& c, const CheckInputs& in, std::string* why) {
  const size_t col = ColumnOf(in, c.series);
  double start_s = -1, end_s = 1e18;
  if (!c.phase.empty() && !PhaseWindow(in.scenario->load.phases, c.phase, &start_s, &end_s)) {
    *why = "the scenario has no phase " + c.phase;
    return std::nullopt;
  }
  std::vector<MetricsRow> rows;
  for (const MetricsRow& r : *in.server_rows) {
    if (r.up && col < r.values.size() && r.elapsed_s >= start_s && r.elapsed_s < end_s) {
      rows.push_back(r);
    }
  }
  if (rows.empty()) {
    *why = c.series + " was not scraped" + (c.phase.empty() ? "" : " during phase " + c.phase);
    return std::nullopt;
  }
  if (c.metric == "increase" || c.metric == "rate") {
    const double inc = CounterIncrease(rows, col);
    if (c.metric == "increase") return inc;
    const double span_s = rows.back().elapsed_s - rows.front().elapsed_s;
    return span_s > 0 ? inc / span_s : 0.0;
  }
  if (c.metric == "last") return rows.back().values[col];
  double lo = rows[0].values[col], hi = lo, sum = 0;
  for (const MetricsRow& r : rows) {
    lo = std::min(lo, r.values[col]);
    hi = std::max(hi, r.values[col]);
    sum += r.values[col];
  }
  return c.metric == "max" ? hi : c.metric == "min" ? lo : sum / static_cast<double>(rows.size());
}

std::optional<double> FigureValue(const CheckSpec& c, const CheckInputs& in, std::string* why) {
  if (c.source == CheckSource::kRecon) {
    if (in.verification == nullptr) {
      *why = "reconciliation runs after the load";
      return std::nullopt;
    }
    // Its figures stay zero when it never answered: zero drift would read as clean.
    if (!in.verification->recon_answered) {
      *why = "reconciliation (/admin/recon) did not answer: there is no " + c.metric.substr(6) +
             " to judge";
      return std::nullopt;
    }
    return static_cast<double>(c.metric == "recon.drift" ? in.verification->recon_drift_cents
                                                         : in.verification->recon_discrepancies);
  }
  const nlohmann::json figures = ServerFigures(*in.server_rows);
  const nlohmann::json& value = figures.value(c.metric.substr(7), nlohmann::json());
  if (!value.is_number() || in.server_rows->empty()) {
    *why = "the server's " + c.metric.substr(7) + " was not scraped";
    return std::nullopt;
  }
  return value.get<double>();
}

std::string UnitSuffix(const CheckSpec& c) {
  if (c.source == CheckSource::kRecon && c.metric == "recon.drift") return " cents";
  if (c.unit.empty() || c.unit == "%") return c.unit;
  return " " + c.unit;
}

}  // namespace

int64_t BusiestEndS(const Scenario& s) {
  int64_t start_s = 0, end_s = 0;
  double best = -1;
  for (const Phase& p : s.load.phases) {
    double rate = std::max(p.rate, p.rate_end);
    int64_t phase_end = start_s + p.duration_s;
    if (p.shape == "spike" && p.spike_rate > rate) {
      rate = p.spike_rate;
      phase_end = start_s + p.spike_at_s + p.spike_s;
    }
    if (p.users > rate) rate = p.users;
    if (rate > best) {
      best = rate;
      end_s = phase_end;
    }
    start_s += p.duration_s;
  }
  return end_s;
}

nlohmann::json ServerFigures(const std::vector<MetricsRow>& rows) {
  const auto& cols = MetricsScraper::Columns();
  auto col = [&cols](const char* name) {
    return static_cast<size_t>(std::find(cols.begin(), cols.end(), name) - cols.begin());
  };
  auto increase = [&](const char* name) { return CounterIncrease(rows, col(name)); };
  double open_max = 0, open_last = 0, drift_last = 0;
  for (const MetricsRow& r : rows) {
    if (!r.up || r.values.size() < cols.size()) continue;
    open_max = std::max(open_max, r.values[col("rp_breakers_open")]);
    open_last = r.values[col("rp_breakers_open")];
    drift_last = r.values[col("recon_drift_cents")];
  }
  // Attempts, not wins: rp_claims_total counts every claim answered, sold out and refused
  // included. The cost per claim *won* is summary.json's "cost".
  const double attempts = increase("rp_claims_total");
  const double commits = increase("rp_ledger_commits_total");
  const double claim_commits = increase("rp_ledger_claim_commits_total");
  return {{"claim_attempts", attempts},
          {"ledger_commits", commits},
          {"commits_per_claim_attempt", attempts > 0 ? commits / attempts : 0.0},
          {"claim_commits", claim_commits},
          {"claim_commits_per_claim_attempt", attempts > 0 ? claim_commits / attempts : 0.0},
          {"db_busy_retries", increase("rp_db_busy_retries_total")},
          {"lock_wait_seconds", increase("rp_lock_wait_seconds_total")},
          {"scheme_fallbacks", increase("rp_scheme_fallbacks_total")},
          {"redis_errors", increase("rp_redis_errors_total")},
          {"limit_refusals", increase("rp_limit_refused_total")},
          {"limit_shadow_refusals", increase("rp_limit_shadow_refused_total")},
          {"degraded_answers", increase("rp_degraded_answers_total")},
          {"breakers_open_max", open_max},
          {"breakers_open_last", open_last},
          {"recon_drift_cents_last", drift_last}};
}

std::optional<CheckResult> EvaluateCheck(const CheckSpec& c, const CheckInputs& in,
                                         std::string* why_not) {
  std::string why, note;
  std::optional<double> base;
  switch (c.source) {
    case CheckSource::kClient:
      base = ClientValue(c, in, &why, &note);
      break;
    case CheckSource::kServerSeries:
      base = SeriesValue(c, in, &why);
      break;
    default:
      base = FigureValue(c, in, &why);
      break;
  }
  if (!base) {
    if (why_not) *why_not = why;
    return std::nullopt;
  }
  CheckResult r;
  r.check = c.text;
  r.passed = Compare(*base, c.comparison, c.threshold);
  r.actual = *base * c.unit_per_base;
  const double limit = c.threshold * c.unit_per_base;
  const std::string unit = UnitSuffix(c);
  r.detail = c.Subject() + " = " + Fixed(r.actual) + unit + ", limit " + c.comparison + " " +
             Fixed(limit) + unit;
  if (!r.passed && limit != 0) {
    r.detail += " (off by " + Fixed(100.0 * std::fabs(r.actual - limit) / limit, 0) + "%)";
  }
  r.detail += note;
  return r;
}

std::vector<CheckResult> EvaluateChecks(const CheckInputs& in) {
  std::vector<CheckResult> out;
  for (const CheckSpec& c : in.scenario->checks) {
    std::string why;
    std::optional<CheckResult> r = EvaluateCheck(c, in, &why);
    if (!r) {
      r = CheckResult{};
      r->check = c.text;
      r->detail = why;
    }
    out.push_back(std::move(*r));
  }
  return out;
}

std::optional<CheckResult> FirstAbortingCheck(const CheckInputs& in, double elapsed_s) {
  for (const CheckSpec& c : in.scenario->checks) {
    if (!c.abort_on_fail || elapsed_s < c.delay_abort_eval_s) continue;
    std::optional<CheckResult> r = EvaluateCheck(c, in);
    if (r && !r->passed) return r;
  }
  return std::nullopt;
}

std::vector<std::string> SeriesNamedByChecks(const Scenario& s) {
  std::set<std::string> names;
  for (const CheckSpec& c : s.checks) {
    if (c.source == CheckSource::kServerSeries) names.insert(c.series);
  }
  return {names.begin(), names.end()};
}

double CounterIncrease(const std::vector<MetricsRow>& rows, size_t column) {
  double total = 0, last = 0;
  bool first = true;
  for (const MetricsRow& r : rows) {
    if (!r.up || column >= r.values.size()) continue;
    const double v = r.values[column];
    if (!first) total += v >= last ? v - last : v;  // A drop: the server restarted from zero.
    last = v;
    first = false;
  }
  return total;
}

}  // namespace rp::sim
