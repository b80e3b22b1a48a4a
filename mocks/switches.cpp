#include "mocks/switches.h"

#include <cmath>

namespace rp::mock {

using nlohmann::json;

const std::map<std::string, std::vector<std::string>>& KnownEndpoints() {
  static const std::map<std::string, std::vector<std::string>> kEndpoints = {
      {"payment", {"orders", "query", "callback"}},
      {"wallet", {"transfers", "refunds", "query"}},
      {"reward", {"grab", "list", "tcc"}},
      {"social", {"relation"}},
  };
  return kEndpoints;
}

Result<Switch> ParseSwitch(const json& j) {
  auto bad = [](const std::string& m) { return Status(Error::kInvalidSwitch, m); };
  if (!j.is_object()) return bad("a switch is a JSON object");
  Switch s;
  try {
    for (const auto& [key, value] : j.items()) {
      if (key == "service") {
        s.service = value.get<std::string>();
      } else if (key == "endpoint") {
        s.endpoint = value.get<std::string>();
      } else if (key == "error_rate" || key == "timeout_rate" || key == "duplicate_rate") {
        double rate = value.get<double>();
        if (!(rate >= 0 && rate <= 1)) return bad(key + " must be within 0..1");
        (key == "error_rate"     ? s.error_rate
         : key == "timeout_rate" ? s.timeout_rate
                                 : s.duplicate_rate) = rate;
      } else if (key == "down") {
        s.down = value.get<bool>();
      } else if (key == "hang_ms") {
        s.hang_ms = value.get<int64_t>();
        if (s.hang_ms < 0 || s.hang_ms > 600000) return bad("hang_ms must be 0..600000");
      } else if (key == "latency_ms") {
        if (value.contains("fixed")) {
          s.latency_kind = "fixed";
          s.latency_a = value.at("fixed").get<double>();
        } else if (value.contains("min")) {
          s.latency_kind = "uniform";
          s.latency_a = value.at("min").get<double>();
          s.latency_b = value.at("max").get<double>();
        } else if (value.contains("p50")) {
          s.latency_kind = "lognormal";
          s.latency_a = value.at("p50").get<double>();
          s.latency_b = value.at("p99").get<double>();
        } else {
          return bad("latency_ms takes {fixed}, {min,max} or {p50,p99}");
        }
        if (s.latency_a < 0 || s.latency_b < 0 || s.latency_a > 600000 || s.latency_b > 600000 ||
            (s.latency_kind != "fixed" && s.latency_b < s.latency_a) ||
            (s.latency_kind == "lognormal" && s.latency_a <= 0)) {
          return bad("latency_ms values must be 0..600000 and ordered (p50 > 0)");
        }
      } else {
        return bad("unknown switch field " + key);
      }
    }
  } catch (const json::exception&) {
    return bad("a switch field has the wrong type");
  }
  auto known = KnownEndpoints().find(s.service);
  if (known == KnownEndpoints().end())
    return bad("service must be payment, wallet, reward or social");
  if (s.endpoint != "*" &&
      std::find(known->second.begin(), known->second.end(), s.endpoint) == known->second.end()) {
    return bad("unknown endpoint " + s.endpoint + " of " + s.service);
  }
  return s;
}

json SwitchJson(const Switch& s) {
  json j = {{"service", s.service},
            {"endpoint", s.endpoint},
            {"error_rate", s.error_rate},
            {"timeout_rate", s.timeout_rate},
            {"duplicate_rate", s.duplicate_rate},
            {"down", s.down},
            {"hang_ms", s.hang_ms}};
  if (s.latency_kind == "fixed") j["latency_ms"] = {{"fixed", s.latency_a}};
  if (s.latency_kind == "uniform") j["latency_ms"] = {{"min", s.latency_a}, {"max", s.latency_b}};
  if (s.latency_kind == "lognormal") j["latency_ms"] = {{"p50", s.latency_a}, {"p99", s.latency_b}};
  return j;
}

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
