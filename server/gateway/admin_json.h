// The JSON of the stability admin routes (docs/stability.md): PUT /admin/limits takes the
// limits config (limits/rules.h's ParseLimits, the same parser as the config file's section),
// PUT /admin/degrade a feature switch; GET of both answers their current state. Pure
// functions; thread-safe.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "common/status.h"
#include "server/base/degrade.h"
#include "server/limits/rules.h"

namespace rp::gateway {

// invalid_json, or invalid_limits naming the rule and field (a global rule without a shared
// store, global_store false, is refused: it would not be global).
Result<limits::LimitsConfig> ParseLimitsBody(const std::string& body,
                                             const std::vector<std::string>& routes,
                                             bool global_store);

struct DegradeSwitch {
  base::Feature feature;
  base::FeatureMode mode;
};
// {"feature": "others_luck", "mode": "off" | "on" | "auto"}; invalid_feature otherwise.
Result<DegradeSwitch> ParseDegradeBody(const std::string& body);

// {"features": [{"feature","tier","mode","degraded","reason","degraded_answers"}, ...]}
nlohmann::json FeaturesJson(const std::vector<base::FeatureState>& states);

// The claim list's cheaper form: an empty page that says it is one.
nlohmann::json DegradedClaimsPageJson(int64_t packet_id);

}  // namespace rp::gateway
