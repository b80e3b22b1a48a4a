#include "server/gateway/admin_json.h"

#include "server/gateway/request_json.h"

namespace rp::gateway {

using nlohmann::json;

Result<limits::LimitsConfig> ParseLimitsBody(const std::string& body,
                                             const std::vector<std::string>& routes,
                                             bool global_store) {
  json j = json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return Status(Error::kInvalidJson, "the body is not JSON");
  Result<limits::LimitsConfig> c = limits::ParseLimits(j, routes, "PUT /admin/limits");
  if (!c.ok()) return Status(Error::kInvalidLimits, c.status().message());
  for (const limits::LimitRule& r : c->rules) {
    if (r.scope == limits::Scope::kGlobal && !global_store) {
      return Status(Error::kInvalidLimits, "PUT /admin/limits: rule " + r.name +
                                               ": scope global needs Redis, and this server "
                                               "has none (redis.url)");
    }
  }
  return c;
}

Result<DegradeSwitch> ParseDegradeBody(const std::string& body) {
  Result<RequestJson> j = RequestJson::Parse(body);
  if (!j.ok()) return j.status();
  std::string feature, mode;
  for (Status s :
       {j->String("feature", &feature, true), j->String("mode", &mode, true), j->RejectUnknown()}) {
    if (!s.ok()) return s;
  }
  std::optional<base::Feature> f = base::ParseFeature(feature);
  if (!f) {
    return Status(Error::kInvalidFeature,
                  "no feature '" + feature +
                      "'; the non-core ones are others_luck, subsidy_display, audience, recon");
  }
  std::optional<base::FeatureMode> m = base::ParseFeatureMode(mode);
  if (!m) return Status(Error::kInvalidFeature, "mode must be auto, on or off");
  return DegradeSwitch{*f, *m};
}

json FeaturesJson(const std::vector<base::FeatureState>& states) {
  json features = json::array();
  for (const base::FeatureState& s : states) {
    json f = {{"feature", base::Name(s.feature)},
              {"tier", s.tier == base::Tier::kCore ? "core" : "non_core"},
              {"mode", base::Name(s.mode)},
              {"degraded", s.degraded},
              {"degraded_answers", s.degraded_answers}};
    if (!s.reason.empty()) f["reason"] = s.reason;
    features.push_back(std::move(f));
  }
  return {{"features", std::move(features)}};
}

json DegradedClaimsPageJson(int64_t packet_id) {
  return {{"packet_id", packet_id},
          {"claims", json::array()},
          {"degraded", true},
          {"degraded_feature", base::Name(base::Feature::kOthersLuck)}};
}

}  // namespace rp::gateway
