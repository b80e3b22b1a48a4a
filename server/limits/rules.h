// Rate-limit rules: what the gateway's limiter enforces (docs/stability.md). A rule names a
// route, what it counts per (the whole route, each user, or each packet — the hot parameter),
// a QPS or a concurrency bound, and what happens to a request over it (Sentinel's behaviours:
// refuse, warm up, or queue for a bounded time). Rules come from the `limits` section of the
// server config or from PUT /admin/limits, both through ParseLimits(), so the two can never
// disagree on what a rule means. Plain values; thread-compatible.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace rp::limits {

enum class Per : uint8_t { kRoute, kUser, kPacket };
enum class Behavior : uint8_t { kReject, kWarmUp, kQueue };
enum class Scope : uint8_t { kLocal, kGlobal };

std::string_view Name(Per p);       // "route" | "user" | "packet"
std::string_view Name(Behavior b);  // "reject" | "warm_up" | "queue"
std::string_view Name(Scope s);     // "local" | "global"

struct LimitRule {
  std::string name;   // [a-z0-9_]{1,48}; unique; the metrics label.
  std::string route;  // A route name the limiter was built with (e.g. "claim"), or "*".
  Per per = Per::kRoute;
  int64_t qps = 0;          // Requests per second (token bucket); 0 when concurrency is set.
  int64_t concurrency = 0;  // Requests in flight at most; 0 when qps is set.
  int64_t burst = 0;        // Bucket capacity in requests; 0: one second's worth (= qps).
  Behavior behavior = Behavior::kReject;
  int64_t warm_up_ms = 10000;  // kWarmUp: from qps/3 to qps over this long.
  int64_t queue_ms_max = 500;  // kQueue: the longest a request may wait for its turn.
  Scope scope = Scope::kLocal;
  bool shadow = false;  // Count what would be refused; refuse nothing.
  std::string message;  // Shown to the user on refusal; "" for the default one.
};

struct LimitsConfig {
  bool shadow = false;  // Every rule in shadow mode.
  std::vector<LimitRule> rules;
};

inline constexpr size_t kRulesMax = 64;
inline constexpr int64_t kQpsMax = 10'000'000;
inline constexpr int64_t kConcurrencyMax = 1'000'000;
inline constexpr size_t kMessageCharsMax = 200;

// The message a refused user sees when the rule sets none.
inline constexpr std::string_view kDefaultMessage =
    "So many people are grabbing red packets right now. Please try again in a moment.";

// Parses {"shadow": bool, "rules": [ {...}, ... ]} (every field but name, route and one of
// qps/concurrency optional; unknown fields are errors). routes are the names rules may use
// ("" entries: routes no rule may limit). source prefixes every message (a file:line or
// "PUT /admin/limits"); rule_sources[i], when given, replaces it for rule i (its own line).
// bad_config naming the rule (by index) and the field on the first problem.
Result<LimitsConfig> ParseLimits(const nlohmann::json& body, const std::vector<std::string>& routes,
                                 std::string_view source,
                                 const std::vector<std::string>& rule_sources = {});

// The inverse of ParseLimits (every field written), for GET /admin/limits and limits.yaml.
nlohmann::json ToJson(const LimitsConfig& config);
// A `limits:` section of a server config file holding config, YAML, loadable as it is.
std::string ToYamlSection(const LimitsConfig& config);

}  // namespace rp::limits
