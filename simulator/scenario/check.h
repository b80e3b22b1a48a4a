// A scenario's checks — thresholds in the spirit of k6's: a statistic of a client operation, of a
// series the server exposes on /metrics, or of the money verification, compared with a limit:
//
//   p99(claim) < 50ms              p99.9(claim, phase=peak) < 200ms     avg(send) < 20ms
//   min(claim) >= 100us            max(detail) < 2s                     error_rate(claim) < 0.5%
//   ok_p99(claim) < 50ms           admitted_avg(claim) < 20ms
//   throughput(claim, phase=peak) > 300/s                               count(grab) > 1000
//   max(rp_queue_lag_seconds) < 5  rate(rp_scheme_fallbacks_total) == 0
//   increase(rp_limit_refused_total) > 0                                recon.drift == 0
//
// Parsing is pure (ParseCheck); whether an operation or phase exists is the scenario loader's
// question and whether a server series exists is asked of the running server before the load.
// Plain data; thread-compatible.
#pragma once

#include <string>

#include "common/status.h"

namespace rp::sim {

enum class CheckSource {
  kClient,        // A statistic of one operation's requests, as the load engine measured them.
  kServerSeries,  // A statistic of one /metrics series over the run's scrapes.
  kServerFigure,  // One of the summary's server figures ("server.claim_attempts").
  kRecon,         // The verification's reconciliation (recon.drift, recon.discrepancies).
};

struct CheckSpec {
  std::string text;  // As written, for messages.
  CheckSource source = CheckSource::kClient;
  // Client: p<q> (p50, p99.9, ...), avg, min, max, med, error_rate, refused_rate, throughput,
  // count, degraded, recovery_s, admitted_<p<q>|avg|min|max|med> (429s left out) and
  // ok_<p<q>|avg|min|max|med> (errors left out, as k6's expected_response). A latency check
  // whose answers were all errors fails: there is no successful answer to time.
  // Server series: max, min, avg, last, increase, rate. Figure: "server.<name>"; "recon.drift".
  std::string metric;
  std::string op;          // kClient: the operation ("claim").
  std::string series;      // kServerSeries: the Prometheus name ("rp_queue_lag_seconds").
  std::string phase;       // Empty: the whole run; else one load phase's stretch of it.
  double quantile = -1;    // Latency statistics: the quantile in (0, 1]; max is 1.
  std::string comparison;  // < | <= | > | >= | ==
  // In the metric's base unit: ms for latencies, % for rates, s for recovery_s, per second for
  // throughput and rate(), the series' own unit for the other series statistics.
  double threshold = 0;
  std::string unit;          // How the limit was written ("us", "ms", "s", "%", "/s" or "").
  double unit_per_base = 1;  // The written unit per base unit (1000 for us against ms).
  // k6's abortOnFail: stop the load as soon as the check fails, evaluated every second once
  // delay_abort_eval_s of the load have passed (client, series and server.* checks only).
  bool abort_on_fail = false;
  double delay_abort_eval_s = 0;

  bool IsLatency() const {
    return quantile >= 0 || metric == "avg" || metric == "admitted_avg" || metric == "ok_avg";
  }
  // "p99(claim)" or "p99(claim, phase=peak)": what the check measures, for messages.
  std::string Subject() const;
};

// Parses one check. Status(Error::kBadCheck) saying what is wrong and showing the forms above.
Result<CheckSpec> ParseCheck(const std::string& text);

}  // namespace rp::sim
