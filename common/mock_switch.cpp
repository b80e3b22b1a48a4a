#include "common/mock_switch.h"

#include <algorithm>

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
        // A float (1e30) converted to an integer is undefined behaviour: whole numbers only.
        if (!value.is_number_integer()) return bad("hang_ms must be a whole number 0..600000");
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

}  // namespace rp::mock
