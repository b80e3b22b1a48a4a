#include "mocks/switches.h"

#include <cmath>

namespace rp::mock {

using nlohmann::json;

void SwitchBoard::Set(const Switch& s) {
  std::lock_guard<std::mutex> lock(mu_);
  switches_[{s.service, s.endpoint}] = s;
}

void SwitchBoard::Reset() {
  std::lock_guard<std::mutex> lock(mu_);
  switches_.clear();
}

json SwitchBoard::List() const {
  std::lock_guard<std::mutex> lock(mu_);
  json list = json::array();
  for (const auto& [key, s] : switches_) list.push_back(SwitchJson(s));
  return list;
}

double SwitchBoard::Uniform() {
  std::lock_guard<std::mutex> lock(mu_);
  return std::uniform_real_distribution<double>(0, 1)(rng_);
}

int64_t SwitchBoard::UniformInt(int64_t lo, int64_t hi) {
  std::lock_guard<std::mutex> lock(mu_);
  return std::uniform_int_distribution<int64_t>(lo, hi)(rng_);
}

Fault SwitchBoard::Decide(const std::string& service, const std::string& endpoint) {
  std::lock_guard<std::mutex> lock(mu_);
  const Fault f = DecideLocked(service, endpoint);
  DecisionCounts& n = counts_[{service, endpoint}];
  ++n.calls;
  // As the services apply them: down wins over error, error over timeout.
  n.latency += f.delay_ms > 0 ? 1 : 0;
  n.down += f.down ? 1 : 0;
  n.error += f.error && !f.down ? 1 : 0;
  n.timeout += f.timeout && !f.down && !f.error ? 1 : 0;
  n.duplicate += f.duplicate && !f.down && !f.error ? 1 : 0;
  return f;
}

std::map<std::pair<std::string, std::string>, SwitchBoard::DecisionCounts> SwitchBoard::Counts()
    const {
  std::lock_guard<std::mutex> lock(mu_);
  return counts_;
}

Fault SwitchBoard::DecideLocked(const std::string& service, const std::string& endpoint) {
  auto it = switches_.find({service, endpoint});
  if (it == switches_.end()) it = switches_.find({service, "*"});
  Fault f;
  if (it == switches_.end()) return f;
  const Switch& s = it->second;
  std::uniform_real_distribution<double> u(0, 1);
  if (s.latency_kind == "fixed") f.delay_ms = static_cast<int64_t>(s.latency_a);
  if (s.latency_kind == "uniform") {
    f.delay_ms = static_cast<int64_t>(s.latency_a + u(rng_) * (s.latency_b - s.latency_a));
  }
  if (s.latency_kind == "lognormal") {
    // ln X ~ N(mu, sigma): median = e^mu = p50; p99 = e^(mu + 2.326 sigma).
    const double mu = std::log(s.latency_a);
    const double sigma =
        s.latency_b > s.latency_a ? std::log(s.latency_b / s.latency_a) / 2.326 : 0;
    f.delay_ms = static_cast<int64_t>(std::lognormal_distribution<double>(mu, sigma)(rng_));
  }
  f.down = s.down;
  f.error = u(rng_) < s.error_rate;
  f.timeout = u(rng_) < s.timeout_rate;
  f.hang_ms = s.hang_ms;
  f.duplicate = u(rng_) < s.duplicate_rate;
  return f;
}

}  // namespace rp::mock
