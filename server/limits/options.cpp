#include "server/limits/options.h"

#include <yaml-cpp/yaml.h>

#include "common/yaml_json.h"

namespace rp::limits {

void Declare(options::Registry& r, LimitsOptions* o, std::vector<std::string> routes) {
  r.Bool("limits.shadow", &o->config.shadow)
      .Help(
          "every rule only counts what it would refuse (rp_limit_shadow_refused_total) and refuses "
          "nothing");
  r.Int("limits.keys_max", &o->keys_max)
      .Range(1, 10'000'000)
      .Help("per rule, the users or packets whose buckets are kept");
  r.Structured(
      "limits.rules",
      "rate-limit rules: name, route, per (route|user|packet), qps or concurrency, burst, "
      "behavior (reject|warm_up|queue), warm_up_ms, queue_ms_max, scope (local|global), shadow, "
      "message (docs/stability.md)",
      [o, routes = std::move(routes)](const YAML::Node& node, std::string_view file) {
        const std::string at = std::string(file) + ":" + std::to_string(node.Mark().line + 1);
        if (!node.IsSequence()) return Status(Error::kBadConfig, at + ": limits.rules: a list");
        std::vector<std::string> rule_sources;
        for (const YAML::Node& rule : node) {
          rule_sources.push_back(std::string(file) + ":" + std::to_string(rule.Mark().line + 1));
        }
        nlohmann::json rules;
        try {
          rules = YamlToJson(node);
        } catch (const YAML::Exception& e) {
          return Status(Error::kBadConfig, at + ": limits.rules: " + e.what());
        }
        Result<LimitsConfig> parsed =
            ParseLimits(nlohmann::json{{"rules", rules}}, routes, at, rule_sources);
        if (!parsed.ok()) return parsed.status();
        o->config.rules = std::move(parsed->rules);
        return Status::Ok();
      });
}

}  // namespace rp::limits
