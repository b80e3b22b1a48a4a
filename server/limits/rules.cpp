#include "server/limits/rules.h"

#include <algorithm>
#include <set>
#include <sstream>

#include "common/enum_names.h"

namespace rp::limits {
namespace {

using nlohmann::json;

constexpr EnumNames<Per, 3> kPerNames{{"route", "user", "packet"}};
constexpr EnumNames<Behavior, 3> kBehaviorNames{{"reject", "warm_up", "queue"}};
constexpr EnumNames<Scope, 2> kScopeNames{{"local", "global"}};

const std::set<std::string, std::less<>> kRuleFields = {
    "name",     "route",      "per",          "qps",   "concurrency", "burst",
    "behavior", "warm_up_ms", "queue_ms_max", "scope", "shadow",      "message"};

bool IsRuleName(const std::string& s) {
  if (s.empty() || s.size() > 48) return false;
  return std::all_of(s.begin(), s.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
  });
}

// Reads one field of a rule; problems become bad_config "<where>.<field>: <what>".
class Fields {
 public:
  Fields(const json& rule, std::string where) : rule_(rule), where_(std::move(where)) {}

  Status Int(const char* field, int64_t min, int64_t max, int64_t* out) const {
    auto it = rule_.find(field);
    if (it == rule_.end()) return Status::Ok();
    if (!it->is_number_integer()) return Bad(field, "expected a whole number");
    const int64_t v = it->get<int64_t>();
    if (v < min || v > max) {
      return Bad(field, std::to_string(v) + " is outside " + std::to_string(min) + ".." +
                            std::to_string(max));
    }
    *out = v;
    return Status::Ok();
  }
  Status Bool(const char* field, bool* out) const {
    auto it = rule_.find(field);
    if (it == rule_.end()) return Status::Ok();
    if (!it->is_boolean()) return Bad(field, "expected true or false");
    *out = it->get<bool>();
    return Status::Ok();
  }
  Status String(const char* field, size_t chars_max, std::string* out) const {
    auto it = rule_.find(field);
    if (it == rule_.end()) return Status::Ok();
    if (!it->is_string()) return Bad(field, "expected a string");
    *out = it->get<std::string>();
    if (out->size() > chars_max) {
      return Bad(field, "longer than " + std::to_string(chars_max) + " characters");
    }
    return Status::Ok();
  }
  template <typename E, size_t N>
  Status Enum(const char* field, const EnumNames<E, N>& names, E* out) const {
    std::string text;
    if (Status s = String(field, 32, &text); !s.ok() || !rule_.contains(field)) return s;
    std::optional<E> e = names.Parse(text);
    if (!e) {
      std::string all;
      for (std::string_view n : names.names) all += (all.empty() ? "" : " | ") + std::string(n);
      return Bad(field, "'" + text + "' is not one of " + all);
    }
    *out = *e;
    return Status::Ok();
  }
  Status Bad(std::string_view field, const std::string& what) const {
    return {Error::kBadConfig, where_ + "." + std::string(field) + ": " + what};
  }

 private:
  const json& rule_;
  const std::string where_;
};

Status ParseRule(const json& j, const std::vector<std::string>& routes, const std::string& where,
                 LimitRule* r) {
  if (!j.is_object()) return {Error::kBadConfig, where + ": expected a mapping of rule fields"};
  for (const auto& [field, _] : j.items()) {
    if (!kRuleFields.count(field)) {
      return {Error::kBadConfig, where + ": unknown field '" + field + "'"};
    }
  }
  const Fields f(j, where);
  if (!j.contains("name")) return f.Bad("name", "missing");
  if (Status s = f.String("name", 48, &r->name); !s.ok()) return s;
  if (!IsRuleName(r->name)) return f.Bad("name", "use [a-z0-9_]{1,48}");
  if (!j.contains("route")) return f.Bad("route", "missing");
  if (Status s = f.String("route", 64, &r->route); !s.ok()) return s;
  if (r->route != "*" &&
      (r->route.empty() || std::find(routes.begin(), routes.end(), r->route) == routes.end())) {
    std::string all = "*";
    for (const std::string& n : routes) {
      if (!n.empty()) all += " | " + n;
    }
    return f.Bad("route", "'" + r->route + "' is not one of " + all);
  }
  Status s = f.Enum("per", kPerNames, &r->per);
  if (s.ok()) s = f.Int("qps", 1, kQpsMax, &r->qps);
  if (s.ok()) s = f.Int("concurrency", 1, kConcurrencyMax, &r->concurrency);
  if (s.ok()) s = f.Int("burst", 1, kQpsMax, &r->burst);
  if (s.ok()) s = f.Enum("behavior", kBehaviorNames, &r->behavior);
  if (s.ok()) s = f.Int("warm_up_ms", 1, 3'600'000, &r->warm_up_ms);
  if (s.ok()) s = f.Int("queue_ms_max", 1, 60'000, &r->queue_ms_max);
  if (s.ok()) s = f.Enum("scope", kScopeNames, &r->scope);
  if (s.ok()) s = f.Bool("shadow", &r->shadow);
  if (s.ok()) s = f.String("message", kMessageCharsMax, &r->message);
  if (!s.ok()) return s;
  if ((r->qps > 0) == (r->concurrency > 0)) {
    return {Error::kBadConfig, where + ": set exactly one of qps and concurrency"};
  }
  if (r->concurrency > 0 && (r->behavior != Behavior::kReject || j.contains("burst"))) {
    return {Error::kBadConfig,
            where + ": a concurrency rule refuses (behavior: reject) and has no burst"};
  }
  if (r->scope == Scope::kGlobal && (r->behavior != Behavior::kReject || r->concurrency > 0)) {
    return {Error::kBadConfig,
            where + ": a global rule is a qps rule that refuses (behavior: reject)"};
  }
  if (r->qps > 0 && r->burst == 0) r->burst = r->qps;
  return Status::Ok();
}

}  // namespace

std::string_view Name(Per p) {
  return kPerNames.Name(p);
}
std::string_view Name(Behavior b) {
  return kBehaviorNames.Name(b);
}
std::string_view Name(Scope s) {
  return kScopeNames.Name(s);
}

Result<LimitsConfig> ParseLimits(const json& body, const std::vector<std::string>& routes,
                                 std::string_view source,
                                 const std::vector<std::string>& rule_sources) {
  const std::string src(source);
  if (!body.is_object()) return Status(Error::kBadConfig, src + ": expected {shadow, rules}");
  LimitsConfig out;
  for (const auto& [field, value] : body.items()) {
    if (field == "shadow") {
      if (!value.is_boolean()) return Status(Error::kBadConfig, src + ": shadow: true or false");
      out.shadow = value.get<bool>();
    } else if (field != "rules") {
      return Status(Error::kBadConfig, src + ": unknown field '" + field + "'");
    }
  }
  const json rules = body.value("rules", json::array());
  if (!rules.is_array()) return Status(Error::kBadConfig, src + ": rules: expected a list");
  if (rules.size() > kRulesMax) {
    return Status(Error::kBadConfig,
                  src + ": rules: at most " + std::to_string(kRulesMax) + " rules");
  }
  std::set<std::string> names;
  for (size_t i = 0; i < rules.size(); ++i) {
    LimitRule r;
    const std::string where =
        (i < rule_sources.size() ? rule_sources[i] : src) + ": rules[" + std::to_string(i) + "]";
    if (Status s = ParseRule(rules[i], routes, where, &r); !s.ok()) return s;
    if (!names.insert(r.name).second) {
      return Status(Error::kBadConfig, where + ".name: '" + r.name + "' is used twice");
    }
    out.rules.push_back(std::move(r));
  }
  return out;
}

json ToJson(const LimitsConfig& config) {
  json rules = json::array();
  for (const LimitRule& r : config.rules) {
    json j = {{"name", r.name},         {"route", r.route},
              {"per", Name(r.per)},     {"behavior", Name(r.behavior)},
              {"scope", Name(r.scope)}, {"shadow", r.shadow}};
    if (r.qps > 0) {
      j["qps"] = r.qps;
      j["burst"] = r.burst;
    } else {
      j["concurrency"] = r.concurrency;
    }
    if (r.behavior == Behavior::kWarmUp) j["warm_up_ms"] = r.warm_up_ms;
    if (r.behavior == Behavior::kQueue) j["queue_ms_max"] = r.queue_ms_max;
    if (!r.message.empty()) j["message"] = r.message;
    rules.push_back(std::move(j));
  }
  return {{"shadow", config.shadow}, {"rules", std::move(rules)}};
}

std::string ToYamlSection(const LimitsConfig& config) {
  // JSON strings and numbers are valid YAML flow scalars, so each field is written with dump().
  std::ostringstream out;
  out << "limits:\n  shadow: " << (config.shadow ? "true" : "false") << "\n  rules:\n";
  if (config.rules.empty()) out << "    []\n";
  const json all = ToJson(config);
  for (const json& rule : all["rules"]) {
    bool first = true;
    for (const auto& [field, value] : rule.items()) {
      out << (first ? "    - " : "      ") << field << ": " << value.dump() << "\n";
      first = false;
    }
  }
  return out.str();
}

}  // namespace rp::limits
