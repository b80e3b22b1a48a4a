// RunStats: what the load engine measured, per operation ("send", "claim", "grab", ...) in total
// and per second of the run. Latency is recorded from each request's *intended* start (its
// scheduled arrival, or the moment the journey was ready to send it), so time spent waiting for a
// connection or behind a stalled server counts: coordinated omission cannot hide a stall.
// Not thread-safe: the load engine's io thread owns it; read it after the run.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "simulator/stats/histogram.h"

namespace rp::sim {

// An error is a failure of the system, not a business outcome: no response (status 0), any 5xx,
// and 4xx answers a correct client never provokes (400, 401, 403, 404, 405, 413). 409 and 410
// (sold out, budget exhausted, expired) are answers, counted by code but not as errors.
bool IsError(int status);

struct SecondStats {
  int64_t requests = 0;
  int64_t errors = 0;
  int64_t refused = 0;  // 429: a rate limit turned it away (not an error: an answer).
  std::map<int, int64_t> by_status;
  LatencyHistogram latency;
};

struct OpStats {
  int64_t requests = 0;
  int64_t errors = 0;
  int64_t refused = 0;   // 429s.
  int64_t degraded = 0;  // Answers that said "degraded": true.
  std::map<int, int64_t> by_status;
  LatencyHistogram latency;
  LatencyHistogram admitted_latency;  // Every answer but the 429s: what admitted users saw.
  std::vector<SecondStats> seconds;   // Index: whole seconds since the load started.
};

class RunStats {
 public:
  // `second` is the whole second of the run in which the request completed.
  void Record(const std::string& op, int64_t second, int status, int64_t latency_us,
              bool degraded = false);
  // Seconds from the end of the load's busiest second until `op` is served as before the
  // overload (a second with under 1% refused and no errors); -1 when it never recovers.
  double RecoveryS(const std::string& op, int64_t busiest_second_end) const;
  // An arrival the open model offered (started or dropped).
  void RecordArrival() { ++arrivals_; }
  int64_t arrivals() const { return arrivals_; }
  // An arrival the engine dropped because journeys_in_flight_max journeys were running.
  void RecordDropped(int64_t second);

  const std::map<std::string, OpStats>& ops() const { return ops_; }
  const std::vector<int64_t>& dropped_per_second() const { return dropped_; }
  int64_t dropped() const;
  // Requests per second of `op` over the whole load (0 for an unknown op).
  double Throughput(const std::string& op, double load_seconds) const;

 private:
  std::map<std::string, OpStats> ops_;
  std::vector<int64_t> dropped_;
  int64_t arrivals_ = 0;
};

}  // namespace rp::sim
