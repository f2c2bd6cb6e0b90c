#pragma once
// Run cards: one TOML file per experiment, with sections [lattice], [model], [solver], [train], [eval],
// [hmc], [output] and [run]. Every key a run card may hold is declared once in the schema
// (experiments/runcard_schema.cpp) with its type, default, allowed range or choices and a one-line doc;
// the schema is what `latflow config show` prints and what validation enforces.
//
// Resolution order (later wins): schema defaults < the theory's defaults < lattice.preset < the card file <
// --set overrides.
// Validation rejects unknown sections and keys (naming the closest valid one), wrong types, values out of
// range and unknown names (actions, operators, solvers, ...), each with one line saying what is allowed.
#include <functional>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "core/config.hpp"

namespace latflow {

/// One key of the run-card schema.
struct KeySpec {
  std::string key;                    ///< "section.key"
  std::optional<ConfigValue> fallback;///< default; nullopt = required when its condition holds
  std::string doc;                    ///< one line, printed as a comment by `config show`
  double min = -1e300;                ///< inclusive bounds for numbers
  double max = 1e300;
  bool min_exclusive = false;
  std::function<std::vector<std::string>()> choices;  ///< allowed strings (often a registry's names)
  /// "section.key=a|b": the key exists only when that key has one of these values; conditions joined by
  /// ';' are alternatives ("lattice.convention=beta;lattice.theory=u1|schwinger").
  std::string only_with;
};

/// The schema, in the order `config show` prints it.
const std::vector<KeySpec>& runcard_schema();

/// Defaults that depend on lattice.theory (the model a theory samples with, unless the card says otherwise);
/// applied after the preset and before validation, so `config show` prints them like any default.
const std::vector<std::pair<std::string, ConfigValue>>& theory_defaults(const std::string& theory);

/// What a key allows, as printed by `config show` and in errors: "an integer in [2, 4096]",
/// "one of 'rk4', 'dopri5'", "true or false".
std::string allowed_values(const KeySpec& spec);

/// A resolved, validated run card plus where it came from.
struct RunCard {
  Config config;
  std::string source;                 ///< the card's path, or "" for an in-memory card
  std::set<std::string> explicit_keys;///< keys given by the card or --set (not defaults or a preset)

  /// TOML of the resolved card, keys in schema order, each with its doc and allowed values as a comment.
  std::string to_toml(bool with_docs = true) const;
};

/// Parses "section.key=value" overrides; the value is read with the type the schema gives the key.
std::vector<std::pair<std::string, ConfigValue>> parse_overrides(const std::vector<std::string>& sets);

/// Loads, resolves and validates a run card file; throws ConfigError (or UserError for I/O) on bad input.
RunCard load_runcard(const std::string& path, const std::vector<std::string>& sets = {});
/// The same from TOML text (tests, and cards stored in run directories).
RunCard parse_runcard(const std::string& toml_text, const std::string& source,
                      const std::vector<std::string>& sets = {});

}  // namespace latflow
