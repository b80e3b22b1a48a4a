// SwitchBoard: the seed's "mock switches for external services". Per service and endpoint
// (or "*" for all of a service's endpoints; a specific endpoint wins), a switch sets:
//   latency_ms   {"fixed":N} | {"min":A,"max":B} (uniform) | {"p50":A,"p99":B} (lognormal fit)
//   error_rate   probability of answering 500 without applying the operation
//   timeout_rate probability of applying the operation, then hanging hang_ms before answering
//                (the caller's deadline fires first: the worst case for idempotency)
//   duplicate_rate  probability a callback is delivered twice (payment "callback" endpoint)
//   down         answer 503 at once, apply nothing (callbacks: lost)
// Every random decision comes from one seeded RNG, so a run can be replayed. Thread-safe.
#pragma once

#include <cstdint>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <random>
#include <string>

#include "common/mock_switch.h"
#include "common/status.h"

namespace rp::mock {

// What to do to one request.
struct Fault {
  int64_t delay_ms = 0;
  bool down = false;
  bool error = false;
  bool timeout = false;
  int64_t hang_ms = 0;
  bool duplicate = false;
};

class SwitchBoard {
 public:
  explicit SwitchBoard(uint64_t seed) : rng_(seed) {}
  void Set(const Switch& s);
  void Reset();
  nlohmann::json List() const;
  // Rolls the dice for one request to service/endpoint, and counts the call and what it got.
  Fault Decide(const std::string& service, const std::string& endpoint);

  // Calls and injected faults per (service, endpoint) since the start (Reset keeps them: they
  // are counters). Endpoints are the services' own names, so the map is bounded by the code.
  struct DecisionCounts {
    int64_t calls = 0, latency = 0, down = 0, error = 0, timeout = 0, duplicate = 0;
  };
  std::map<std::pair<std::string, std::string>, DecisionCounts> Counts() const;
  // Uniform [0,1) from the shared seeded RNG (for the services' own random choices).
  double Uniform();
  int64_t UniformInt(int64_t lo, int64_t hi);

 private:
  Fault DecideLocked(const std::string& service, const std::string& endpoint);

  mutable std::mutex mu_;
  std::map<std::pair<std::string, std::string>, Switch> switches_;
  std::map<std::pair<std::string, std::string>, DecisionCounts> counts_;
  std::mt19937_64 rng_;
};

}  // namespace rp::mock
