#include "simulator/stats/run_stats.h"

#include <algorithm>

#include <numeric>

namespace rp::sim {

bool IsError(int status) {
  return status == 0 || status >= 500 || status == 400 || status == 401 || status == 403 ||
         status == 404 || status == 405 || status == 413;
}

const char* NoAnswerName(NoAnswer kind) {
  for (const NoAnswerKind& k : kNoAnswerKinds) {
    if (k.kind == kind) return k.name;
  }
  return "";
}

NoAnswer NoAnswerOf(int status, NoAnswer transport) {
  if (status == 0) return transport == NoAnswer::kNone ? NoAnswer::kConnectionLost : transport;
  return status == 502 || status == 504 ? NoAnswer::kProxy : NoAnswer::kNone;
}

void RunStats::RecordUnanswered(const std::string& op, NoAnswer cause, int64_t invoked_ms,
                                int64_t completed_ms) {
  OpStats& s = ops_[op];
  ++s.unanswered;
  ++s.unanswered_by_cause[NoAnswerName(cause)];
  if (unanswered_.size() < kUnansweredKeptMax) {
    unanswered_.push_back({op, cause, invoked_ms, completed_ms});
  } else {
    ++unanswered_not_kept_;
  }
}

void RunStats::Record(const std::string& op, int64_t second, int status, int64_t latency_us,
                      bool degraded) {
  OpStats& s = ops_[op];
  const bool error = IsError(status);
  const bool refused = status == 429;
  ++s.requests;
  s.errors += error ? 1 : 0;
  s.refused += refused ? 1 : 0;
  s.degraded += degraded ? 1 : 0;
  ++s.by_status[status];
  s.latency.Record(latency_us);
  if (!refused) s.admitted_latency.Record(latency_us);
  if (!error) s.ok_latency.Record(latency_us);
  if (second < 0) second = 0;
  if (static_cast<size_t>(second) >= s.seconds.size()) {
    s.seconds.resize(static_cast<size_t>(second) + 1);
  }
  SecondStats& sec = s.seconds[static_cast<size_t>(second)];
  ++sec.requests;
  sec.errors += error ? 1 : 0;
  sec.refused += refused ? 1 : 0;
  ++sec.by_status[status];
  sec.latency.Record(latency_us);
  if (listener_ != nullptr) listener_->OnRequest(op, status, latency_us);
}

void RunStats::RecordArrival(int64_t second, int64_t lag_us) {
  ++arrivals_;
  second = std::max<int64_t>(0, second);
  if (static_cast<size_t>(second) >= arrivals_per_second_.size()) {
    arrivals_per_second_.resize(static_cast<size_t>(second) + 1, 0);
  }
  ++arrivals_per_second_[static_cast<size_t>(second)];
  arrival_lag_.Record(std::max<int64_t>(0, lag_us));
  if (listener_ != nullptr) listener_->OnArrival(lag_us);
}

void RunStats::RecordDropped(int64_t second) {
  if (second < 0) second = 0;
  if (static_cast<size_t>(second) >= dropped_.size()) {
    dropped_.resize(static_cast<size_t>(second) + 1, 0);
  }
  ++dropped_[static_cast<size_t>(second)];
  if (listener_ != nullptr) listener_->OnDropped();
}

int64_t RunStats::dropped() const {
  return std::accumulate(dropped_.begin(), dropped_.end(), int64_t{0});
}

double RunStats::RecoveryS(const std::string& op, int64_t busiest_second_end) const {
  auto it = ops_.find(op);
  if (it == ops_.end()) return -1;
  const std::vector<SecondStats>& secs = it->second.seconds;
  for (size_t i = static_cast<size_t>(std::max<int64_t>(0, busiest_second_end)); i < secs.size();
       ++i) {
    const SecondStats& s = secs[i];
    if (s.requests > 0 && s.errors == 0 && s.refused * 100 < s.requests) {
      return static_cast<double>(static_cast<int64_t>(i) - busiest_second_end);
    }
  }
  return -1;
}

double RunStats::Throughput(const std::string& op, double load_seconds) const {
  auto it = ops_.find(op);
  if (it == ops_.end() || load_seconds <= 0) return 0;
  return static_cast<double>(it->second.requests) / load_seconds;
}

}  // namespace rp::sim
