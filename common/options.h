// Options: configuration keys declared once. A module owns a plain options struct and declares
// each of its keys exactly once — name, the field it fills, its default (the field's value when
// declared), range, unit, help, and optionally a command-line flag or an environment variable.
// Everything else is derived from that one declaration: the strict YAML loader (unknown keys,
// wrong types and out-of-range values are errors with file:line), the command-line flags (their
// help and checks), the error messages, and the documentation table.
//
// A Registry holds pointers into the options structs it was declared over: they must outlive
// it. Not thread-safe: declare, load and validate on one thread, then read the structs freely.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "common/status.h"

namespace YAML {
class Node;
}

namespace rp::options {

class Key {
 public:
  using Field = std::variant<int*, int64_t*, uint64_t*, bool*, std::string*>;
  Key(std::string name, Field field);

  // Inclusive bounds for an integer key (default: any value of the type that is >= 0).
  Key& Range(int64_t min, int64_t max);
  // For a string key: the only values accepted.
  Key& OneOf(std::vector<std::string> values);
  Key& Unit(std::string unit);
  Key& Help(std::string help);
  // A command-line flag that sets this key, e.g. "--port".
  Key& Flag(std::string flag);
  // A flag without a value that sets a bool key to `value` (e.g. --no-workers sets false);
  // flag_help describes what giving the flag does.
  Key& Switch(std::string flag, bool value, std::string flag_help);
  // Read from this environment variable when neither the file nor a flag set the key.
  Key& Env(std::string variable);
  // Never printed (defaults, errors, docs) and never a flag, so it stays out of `ps` output.
  Key& Secret();

  const std::string& name() const { return name_; }
  const std::string& help() const { return help_; }
  // What the flag does: the key's help, or a switch's own description.
  const std::string& flag_help() const { return flag_help_.empty() ? help_ : flag_help_; }
  const std::string& unit() const { return unit_; }
  const std::string& flag() const { return flag_; }
  const std::string& env() const { return env_; }
  bool secret() const { return secret_; }
  bool is_switch() const { return switch_value_.has_value(); }
  bool set() const { return set_; }
  std::string_view type() const;
  std::string default_text() const { return default_text_; }
  std::string range_text() const;  // "1..64", "FULL | NORMAL", "" when unbounded.
  std::string value_text() const;  // The current value as text ("(secret)" for secrets).
  const Field& field() const { return field_; }

  // Parses text as this key's type and sets the field, checking the range. InvalidArgument
  // ("bad_config") naming the key and `source` when the text is not of the type or out of range.
  Status SetText(std::string_view text, std::string_view source);
  // Sets the switch's value (Switch() keys only).
  void SetSwitch();
  // The range check alone, on the current value.
  Status CheckRange() const;

 private:
  std::string name_;
  Field field_;
  std::string help_, unit_, flag_, env_, flag_help_;
  std::string default_text_;
  std::optional<int64_t> min_, max_;
  std::vector<std::string> one_of_;
  std::optional<bool> switch_value_;
  bool secret_ = false;
  bool set_ = false;
};

class Registry {
 public:
  Key& Int(std::string name, int* field);
  Key& Int(std::string name, int64_t* field);
  Key& Uint(std::string name, uint64_t* field);
  Key& Bool(std::string name, bool* field);
  Key& String(std::string name, std::string* field);
  // A key whose value is a YAML structure (a list of rules, say) rather than a scalar; parse
  // gets the node and the file name and reports problems itself (with the node's lines). A name
  // without a dot is a whole top-level entry of the file ("switches"), not a key of a section.
  using StructuredParser = std::function<Status(const YAML::Node& node, std::string_view file)>;
  void Structured(std::string name, std::string help, StructuredParser parse);
  // A rule that spans keys, checked by Validate(); message says what must hold.
  void Rule(std::function<bool()> holds, std::string message);

  // Reads a YAML file of sections of keys ("ledger:\n  path: x.db"). An empty file sets nothing.
  Status LoadYamlFile(const std::string& path);
  Status LoadYaml(const YAML::Node& root, std::string_view source);
  // Sets a key by name from text (a flag's value); NotFound-style bad_config if unknown.
  Status SetText(std::string_view name, std::string_view text, std::string_view source);
  // Fills keys that have an Env() and were not set from the environment.
  void ApplyEnvironment();
  // Every key in range and every rule holding; the first failure as bad_config.
  Status Validate() const;

  Key* Find(std::string_view name);
  const std::vector<std::unique_ptr<Key>>& keys() const { return keys_; }
  // The documentation table (Markdown): one row per key, in declaration order.
  std::string MarkdownTable() const;
  // Every scalar key's current value as one JSON object keyed by full name ("packet.ttl_s": 30),
  // integers as numbers, bools as bools; secrets left out. What a checked config amounts to,
  // for tools that start the program with it (rp-sim reads the effective settings it needs).
  std::string ValuesJson() const;

 private:
  Key& Add(std::string name, Key::Field field);
  bool KnownSection(const std::string& section) const;
  struct StructuredKey {
    std::string name, help;
    StructuredParser parse;
  };
  std::vector<std::unique_ptr<Key>> keys_;
  std::vector<StructuredKey> structured_;
  std::vector<std::pair<std::function<bool()>, std::string>> rules_;
};

// The flags given on one command line (common/options_cli.h collects them), in order.
struct GivenFlags {
  std::vector<std::pair<std::string, std::string>> values;  // (key name, text)
  std::vector<std::string> switches;                        // Keys whose Switch() was given.
};

// Every key that has a flag.
std::vector<std::string> KeysWithFlags(const Registry& registry);

// Applies collected flags (after the config file), naming the flag in any error.
Status ApplyFlags(Registry& registry, const GivenFlags& given);

}  // namespace rp::options
