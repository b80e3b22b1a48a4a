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

// Why a request got no answer from the server. The client cannot tell whether such a request
// took effect: its outcome is unknown. kNone: it was answered.
enum class NoAnswer : uint8_t {
  kNone = 0,
  kTimeout,         // No whole answer within load.request_timeout_ms.
  kConnectFailed,   // No connection could be made (refused, unreachable).
  kConnectionLost,  // The connection closed or was reset before a whole answer came.
  kProxy,           // A proxy in front answered 502 or 504: the server behind it did not answer.
  kNotSent,         // The client's own queue of requests was full: never sent.
  kAbandoned,       // Still unanswered when the load's drain deadline closed the connections.
};

// One row per kind: the name summary.json and the reports use, and what it means.
struct NoAnswerKind {
  NoAnswer kind;
  const char* name;
  const char* meaning;
};
inline constexpr NoAnswerKind kNoAnswerKinds[] = {
    {NoAnswer::kTimeout, "timeout", "no whole answer within load.request_timeout_ms"},
    {NoAnswer::kConnectFailed, "connect_failed", "no connection could be made"},
    {NoAnswer::kConnectionLost, "connection_lost",
     "the connection closed or was reset before a whole answer came"},
    {NoAnswer::kProxy, "proxy_no_answer",
     "the proxy in front answered 502 or 504: the server behind it did not answer"},
    {NoAnswer::kNotSent, "not_sent", "the client's queue was full: never sent"},
    {NoAnswer::kAbandoned, "abandoned",
     "still unanswered when the load's drain deadline closed the connections"},
};
// "timeout", ...; "" for kNone.
const char* NoAnswerName(NoAnswer kind);
// What a reply with this status and transport cause (HttpReply::no_answer, for status 0) says:
// kNone for an answer from the server. rp-server never answers 502 or 504 itself.
NoAnswer NoAnswerOf(int status, NoAnswer transport);

// A request without an answer: which operation, why, and when (ms since the load started: its
// intended start, as latency is measured, and when the client gave up on it).
struct UnansweredRequest {
  std::string op;
  NoAnswer cause = NoAnswer::kNone;
  int64_t invoked_ms = 0;
  int64_t completed_ms = 0;
};

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
  // Every answer but the errors (IsError): what a request that was served took. A fast 501 is
  // no evidence of a fast service.
  LatencyHistogram ok_latency;
  int64_t unanswered = 0;  // Requests without an answer (NoAnswer), among `requests`.
  std::map<std::string, int64_t> unanswered_by_cause;  // NoAnswerName -> requests.
  std::vector<SecondStats> seconds;  // Index: whole seconds since the load started.
};

// Told of every event RunStats records, as it happens (rp-sim's own /metrics: exporter/).
// Called on the load engine's io thread; an implementation must be cheap and thread-safe
// against its own readers. Must outlive the RunStats it is attached to.
class StatsListener {
 public:
  virtual ~StatsListener() = default;
  virtual void OnRequest(const std::string& op, int status, int64_t latency_us) = 0;
  // lag_us: how late the arrival's timer fired after its scheduled instant (the generator
  // falling behind its own plan).
  virtual void OnArrival(int64_t lag_us) = 0;
  virtual void OnDropped() = 0;
  virtual void OnJourneysInFlight(int journeys) = 0;
};

class RunStats {
 public:
  // Mirrors every later Record* to listener (may be null: none). Not owned.
  void set_listener(StatsListener* listener) { listener_ = listener; }
  StatsListener* listener() const { return listener_; }
  // `second` is the whole second of the run in which the request completed.
  void Record(const std::string& op, int64_t second, int status, int64_t latency_us,
              bool degraded = false);
  // A request Record()ed without an answer: counted for its operation and kept (up to
  // kUnansweredKeptMax) with its times, so it can be placed in a phase or a fault's window.
  void RecordUnanswered(const std::string& op, NoAnswer cause, int64_t invoked_ms,
                        int64_t completed_ms);
  static constexpr size_t kUnansweredKeptMax = 200'000;
  // In completion order; past kUnansweredKeptMax only counted (unanswered_not_kept()).
  const std::vector<UnansweredRequest>& unanswered() const { return unanswered_; }
  int64_t unanswered_not_kept() const { return unanswered_not_kept_; }
  // Seconds from the end of the load's busiest second until `op` is served as before the
  // overload (a second with under 1% refused and no errors); -1 when it never recovers.
  double RecoveryS(const std::string& op, int64_t busiest_second_end) const;
  // An arrival the open model offered (started or dropped), lag_us after its scheduled
  // instant (the generator's own delay: a busy simulator thread fires its timer late).
  void RecordArrival(int64_t second, int64_t lag_us);
  int64_t arrivals() const { return arrivals_; }
  // How late arrivals left the generator (intended-start latency already includes it; this
  // says whether the load was offered on the plan's schedule at all).
  const LatencyHistogram& arrival_lag() const { return arrival_lag_; }
  // An arrival the engine dropped because journeys_in_flight_max journeys were running.
  void RecordDropped(int64_t second);

  const std::map<std::string, OpStats>& ops() const { return ops_; }
  const std::vector<int64_t>& dropped_per_second() const { return dropped_; }
  const std::vector<int64_t>& arrivals_per_second() const { return arrivals_per_second_; }
  int64_t dropped() const;
  // Requests per second of `op` over the whole load (0 for an unknown op).
  double Throughput(const std::string& op, double load_seconds) const;

 private:
  std::map<std::string, OpStats> ops_;
  std::vector<int64_t> dropped_;
  std::vector<int64_t> arrivals_per_second_;
  int64_t arrivals_ = 0;
  std::vector<UnansweredRequest> unanswered_;
  int64_t unanswered_not_kept_ = 0;
  LatencyHistogram arrival_lag_;
  StatsListener* listener_ = nullptr;
};

}  // namespace rp::sim
