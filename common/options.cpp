#include "common/options.h"

#include <yaml-cpp/yaml.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <charconv>
#include <cstdlib>
#include <limits>

namespace rp::options {
namespace {

Status Bad(std::string message) {
  return {Error::kBadConfig, std::move(message)};
}

// Whole decimal integers only: no fractions, exponents, NaN, infinities or trailing text.
std::optional<int64_t> ParseInt(std::string_view text) {
  int64_t v = 0;
  const char* end = text.data() + text.size();
  auto [ptr, ec] = std::from_chars(text.data(), end, v);
  if (ec != std::errc() || ptr != end || text.empty()) return std::nullopt;
  return v;
}

std::optional<uint64_t> ParseUint(std::string_view text) {
  uint64_t v = 0;
  const char* end = text.data() + text.size();
  auto [ptr, ec] = std::from_chars(text.data(), end, v);
  if (ec != std::errc() || ptr != end || text.empty()) return std::nullopt;
  return v;
}

std::optional<bool> ParseBool(std::string_view t) {
  if (t == "true" || t == "yes" || t == "on") return true;
  if (t == "false" || t == "no" || t == "off") return false;
  return std::nullopt;
}

template <typename T>
int64_t MaxOf() {
  return static_cast<int64_t>(
      std::min<uint64_t>(std::numeric_limits<T>::max(), std::numeric_limits<int64_t>::max()));
}

}  // namespace

Key::Key(std::string name, Field field) : name_(std::move(name)), field_(field) {
  default_text_ = value_text();
}

Key& Key::Range(int64_t min, int64_t max) {
  min_ = min;
  max_ = max;
  return *this;
}
Key& Key::OneOf(std::vector<std::string> values) {
  one_of_ = std::move(values);
  return *this;
}
Key& Key::Unit(std::string unit) {
  unit_ = std::move(unit);
  return *this;
}
Key& Key::Help(std::string help) {
  help_ = std::move(help);
  return *this;
}
Key& Key::Flag(std::string flag) {
  RP_CHECK(!secret_);
  flag_ = std::move(flag);
  return *this;
}
Key& Key::Switch(std::string flag, bool value, std::string flag_help) {
  RP_CHECK(std::holds_alternative<bool*>(field_));
  flag_ = std::move(flag);
  flag_help_ = std::move(flag_help);
  switch_value_ = value;
  return *this;
}
Key& Key::Env(std::string variable) {
  env_ = std::move(variable);
  return *this;
}
Key& Key::Secret() {
  RP_CHECK(flag_.empty());
  secret_ = true;
  default_text_ = value_text();
  return *this;
}

std::string_view Key::type() const {
  if (std::holds_alternative<bool*>(field_)) return "bool";
  if (std::holds_alternative<std::string*>(field_)) return "string";
  return "integer";
}

std::string Key::value_text() const {
  if (secret_) return "(secret)";
  return std::visit(
      [](auto* p) -> std::string {
        using T = std::remove_pointer_t<decltype(p)>;
        if constexpr (std::is_same_v<T, std::string>) {
          return *p;
        } else if constexpr (std::is_same_v<T, bool>) {
          return *p ? "true" : "false";
        } else {
          return std::to_string(*p);
        }
      },
      field_);
}

std::string Key::range_text() const {
  if (!one_of_.empty()) {
    std::string out;
    for (const std::string& v : one_of_) out += (out.empty() ? "" : " | ") + v;
    return out;
  }
  if (min_ && max_ && *max_ >= MaxOf<int>()) return ">= " + std::to_string(*min_);
  if (min_ && max_) return std::to_string(*min_) + ".." + std::to_string(*max_);
  return "";
}

Status Key::CheckRange() const {
  if (auto* s = std::get_if<std::string*>(&field_)) {
    if (one_of_.empty()) return Status::Ok();
    for (const std::string& v : one_of_) {
      if (**s == v) return Status::Ok();
    }
    return Bad(name_ + " must be one of " + range_text() + " (got \"" + **s + "\")");
  }
  if (std::holds_alternative<bool*>(field_) || !min_) return Status::Ok();
  const int64_t v = std::visit(
      [](auto* p) -> int64_t {
        using T = std::remove_pointer_t<decltype(p)>;
        if constexpr (std::is_same_v<T, std::string> || std::is_same_v<T, bool>) {
          return 0;
        } else {
          return static_cast<int64_t>(*p);
        }
      },
      field_);
  if (v < *min_ || v > *max_) {
    return Bad(name_ + " must be " + range_text() + (unit_.empty() ? "" : " " + unit_) + " (got " +
               std::to_string(v) + ")");
  }
  return Status::Ok();
}

Status Key::SetText(std::string_view text, std::string_view source) {
  const std::string where = std::string(source) + ": " + name_;
  if (auto* s = std::get_if<std::string*>(&field_)) {
    **s = std::string(text);
  } else if (auto* b = std::get_if<bool*>(&field_)) {
    std::optional<bool> v = ParseBool(text);
    if (!v) return Bad(where + " must be true or false");
    **b = *v;
  } else if (auto* u = std::get_if<uint64_t*>(&field_)) {
    std::optional<uint64_t> v = ParseUint(text);
    if (!v) return Bad(where + " must be a whole number >= 0");
    **u = *v;
  } else {
    std::optional<int64_t> v = ParseInt(text);
    const int64_t max = std::holds_alternative<int*>(field_) ? MaxOf<int>() : MaxOf<int64_t>();
    const int64_t min = std::holds_alternative<int*>(field_)
                            ? static_cast<int64_t>(std::numeric_limits<int>::min())
                            : std::numeric_limits<int64_t>::min();
    if (!v || *v > max || *v < min) return Bad(where + " must be a whole number");
    if (auto* i = std::get_if<int*>(&field_)) **i = static_cast<int>(*v);
    if (auto* l = std::get_if<int64_t*>(&field_)) **l = *v;
  }
  set_ = true;
  Status s = CheckRange();
  if (!s.ok()) return Bad(std::string(source) + ": " + s.message());
  return Status::Ok();
}

void Key::SetSwitch() {
  RP_CHECK(switch_value_.has_value());
  *std::get<bool*>(field_) = *switch_value_;
  set_ = true;
}

Key& Registry::Add(std::string name, Key::Field field) {
  RP_CHECK(Find(name) == nullptr);  // Declared once: a second declaration is a bug.
  keys_.push_back(std::make_unique<Key>(std::move(name), field));
  Key& k = *keys_.back();
  if (!std::holds_alternative<bool*>(field) && !std::holds_alternative<std::string*>(field)) {
    k.Range(0, std::holds_alternative<int*>(field) ? MaxOf<int>() : MaxOf<int64_t>());
  }
  return k;
}

Key& Registry::Int(std::string name, int* field) {
  return Add(std::move(name), field);
}
Key& Registry::Int(std::string name, int64_t* field) {
  return Add(std::move(name), field);
}
Key& Registry::Uint(std::string name, uint64_t* field) {
  return Add(std::move(name), field);
}
Key& Registry::Bool(std::string name, bool* field) {
  return Add(std::move(name), field);
}
Key& Registry::String(std::string name, std::string* field) {
  return Add(std::move(name), field);
}

void Registry::Rule(std::function<bool()> holds, std::string message) {
  rules_.emplace_back(std::move(holds), std::move(message));
}

Key* Registry::Find(std::string_view name) {
  for (auto& k : keys_) {
    if (k->name() == name) return k.get();
  }
  return nullptr;
}

Status Registry::LoadYamlFile(const std::string& path) {
  YAML::Node root;
  try {
    root = YAML::LoadFile(path);
  } catch (const YAML::Exception& e) {
    return Bad(path + ": " + e.what());
  }
  return LoadYaml(root, path);
}

Status Registry::LoadYaml(const YAML::Node& root, std::string_view source) {
  const std::string src(source);
  auto at = [&src](const YAML::Node& n) { return src + ":" + std::to_string(n.Mark().line + 1); };
  if (!root.IsDefined() || root.IsNull()) return Status::Ok();
  if (!root.IsMap()) return Bad(at(root) + ": expected a mapping of sections");
  for (const auto& section : root) {
    const std::string name = section.first.Scalar();
    // A structured key may be a whole top-level entry (rp-mock's `switches:` list).
    auto whole = std::find_if(structured_.begin(), structured_.end(),
                              [&name](const StructuredKey& sk) { return sk.name == name; });
    if (whole != structured_.end()) {
      Status s = whole->parse(section.second, src);
      if (!s.ok()) return s;
      continue;
    }
    if (!section.second.IsMap())
      return Bad(at(section.second) + ": " + name + ": expected a mapping");
    if (!KnownSection(name)) return Bad(at(section.first) + ": unknown section '" + name + "'");
    for (const auto& entry : section.second) {
      const std::string key = name + "." + entry.first.Scalar();
      auto structured = std::find_if(structured_.begin(), structured_.end(),
                                     [&key](const StructuredKey& sk) { return sk.name == key; });
      if (structured != structured_.end()) {
        Status s = structured->parse(entry.second, src);
        if (!s.ok()) return s;
        continue;
      }
      Key* k = Find(key);
      if (k == nullptr) return Bad(at(entry.first) + ": unknown key '" + key + "'");
      if (!entry.second.IsScalar())
        return Bad(at(entry.second) + ": " + key + ": expected a value");
      Status s = k->SetText(entry.second.Scalar(), at(entry.second));
      if (!s.ok()) return s;
    }
  }
  return Status::Ok();
}

void Registry::Structured(std::string name, std::string help, StructuredParser parse) {
  structured_.push_back({std::move(name), std::move(help), std::move(parse)});
}

bool Registry::KnownSection(const std::string& section) const {
  const std::string prefix = section + ".";
  for (const auto& k : keys_) {
    if (k->name().rfind(prefix, 0) == 0) return true;
  }
  for (const auto& k : structured_) {
    if (k.name.rfind(prefix, 0) == 0) return true;
  }
  return false;
}

Status Registry::SetText(std::string_view name, std::string_view text, std::string_view source) {
  Key* k = Find(name);
  if (k == nullptr) return Bad(std::string(source) + ": unknown key '" + std::string(name) + "'");
  return k->SetText(text, source);
}

void Registry::ApplyEnvironment() {
  for (auto& k : keys_) {
    if (k->env().empty() || k->set()) continue;
    if (const char* v = std::getenv(k->env().c_str())) {
      // An environment value out of range is reported by Validate() like any other.
      (void)k->SetText(v, k->env());
    }
  }
}

Status Registry::Validate() const {
  for (const auto& k : keys_) {
    Status s = k->CheckRange();
    if (!s.ok()) return s;
  }
  for (const auto& [holds, message] : rules_) {
    if (!holds()) return Bad(message);
  }
  return Status::Ok();
}

namespace {

// `text`, or "" for no text. Built with append: g++ 12 warns (-Wrestrict, a false positive) on
// some "literal" + std::string chains.
std::string Code(const std::string& text) {
  std::string out;
  if (!text.empty()) out.append("`").append(text).append("`");
  return out;
}

// A table cell: a '|' inside would end the cell.
std::string Cell(const std::string& text) {
  std::string out;
  for (char c : text) {
    if (c == '|') out.push_back('\\');
    out.push_back(c);
  }
  return out;
}

}  // namespace

std::string Registry::MarkdownTable() const {
  std::string out =
      "| key | type | default | range | flag / environment | meaning |\n"
      "|---|---|---|---|---|---|\n";
  for (const auto& k : keys_) {
    std::string from = Code(k->flag());
    if (!k->env().empty()) from.append(from.empty() ? "" : ", ").append(Code("$" + k->env()));
    std::string range = k->range_text();
    if (!k->unit().empty()) range.append(range.empty() ? "" : " ").append(k->unit());
    out.append("| ").append(Code(k->name())).append(" | ").append(k->type()).append(" | ");
    out.append(Code(k->default_text())).append(" | ").append(Cell(range)).append(" | ");
    out.append(from).append(" | ").append(Cell(k->help())).append(" |\n");
  }
  for (const auto& k : structured_) {
    out.append("| ").append(Code(k.name)).append(" | list | `[]` |  |  | ");
    out.append(Cell(k.help)).append(" |\n");
  }
  return out;
}

std::string Registry::ValuesJson() const {
  nlohmann::json out = nlohmann::json::object();
  for (const auto& k : keys_) {
    if (k->secret()) continue;
    std::visit([&](auto* p) { out[k->name()] = *p; }, k->field());
  }
  return out.dump();
}

std::vector<std::string> KeysWithFlags(const Registry& registry) {
  std::vector<std::string> out;
  for (const auto& key : registry.keys()) {
    if (!key->flag().empty()) out.push_back(key->name());
  }
  return out;
}

Status ApplyFlags(Registry& registry, const GivenFlags& given) {
  for (const auto& [name, text] : given.values) {
    Key* key = registry.Find(name);
    Status s = registry.SetText(name, text, key != nullptr ? key->flag() : name);
    if (!s.ok()) return s;
  }
  for (const std::string& name : given.switches) {
    if (Key* key = registry.Find(name)) key->SetSwitch();
  }
  return Status::Ok();
}

}  // namespace rp::options
