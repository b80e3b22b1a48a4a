// Command-line flags derived from declared options (common/options.h): every key with a Flag()
// or Switch() becomes a CLI11 option with the key's help, default and range in its description.
// Flags are collected while CLI11 parses and applied afterwards (ApplyFlags), so they override
// the config file whatever the order on the command line. Header-only: only programs link CLI11.
#pragma once

#include <CLI/CLI.hpp>

#include <cstdlib>
#include <iostream>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "common/options.h"

namespace rp::options {

// CLI11's Range lets NaN through (every comparison with it is false): a number in [min, max],
// finite, or the option is refused.
inline CLI::Validator FiniteRange(double min, double max) {
  return CLI::Validator(
      [min, max](std::string& text) -> std::string {
        char* end = nullptr;
        const double v = std::strtod(text.c_str(), &end);
        if (end == text.c_str() || *end != '\0' || !(v >= min && v <= max)) {
          return "Value " + text + " not in range " + CLI::detail::to_string(min) + " to " +
                 CLI::detail::to_string(max);
        }
        return std::string();
      },
      "FLOAT in [" + CLI::detail::to_string(min) + " - " + CLI::detail::to_string(max) + "]");
}

// Adds a CLI11 option to cmd for each key in `names` that has a flag.
inline void AddFlags(CLI::App* cmd, Registry& registry, GivenFlags* given,
                     const std::vector<std::string>& names) {
  for (const auto& key : registry.keys()) {
    if (key->flag().empty()) continue;
    if (std::find(names.begin(), names.end(), key->name()) == names.end()) continue;
    const std::string name = key->name();
    std::string help = key->flag_help() + " [" + name;
    if (!key->is_switch()) help += ", default " + key->default_text();
    if (!key->range_text().empty()) help += ", " + key->range_text();
    help += "]";
    if (key->is_switch()) {
      cmd->add_flag_callback(
          key->flag(), [given, name] { given->switches.push_back(name); }, help);
    } else {
      cmd->add_option_function<std::string>(
             key->flag(),
             [given, name](const std::string& v) { given->values.emplace_back(name, v); }, help)
          ->type_name(key->unit().empty() ? std::string(key->type()) : key->unit());
    }
  }
}

// Parses the command line the way every program here does: nullopt to go on; otherwise the exit
// code — 0 after --help, 2 for a bad command line (CLI11's own codes, 105 for a value out of
// range and so on, are not ours to promise: every program documents 2), with CLI11's message.
// A first word that is no subcommand of a program that has them is named in the error, with the
// list of commands (CLI11 would only say "A subcommand is required").
inline std::optional<int> ParseCommandLine(CLI::App& cli, int argc, char** argv) {
  const std::vector<CLI::App*> commands = cli.get_subcommands([](CLI::App*) { return true; });
  if (argc > 1 && argv[1][0] != '-' && !commands.empty()) {
    std::string known;
    bool found = false;
    for (const CLI::App* c : commands) {
      found = found || c->check_name(argv[1]);
      known += (known.empty() ? "" : ", ") + c->get_name();
    }
    if (!found) {
      const std::string program = std::string(argv[0]).substr(std::string(argv[0]).rfind('/') + 1);
      std::cerr << program << ": unknown command '" << argv[1] << "' (commands: " << known
                << "; --help for more)\n";
      return 2;
    }
  }
  try {
    cli.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return cli.exit(e) == 0 ? 0 : 2;
  }
  return std::nullopt;
}

}  // namespace rp::options
