#pragma once
// Run cards: one TOML file per experiment. Lattice cards (train, run, mcmc, ...) have sections [lattice],
// [model], [solver], [train], [eval], [hmc], [reference], [output] and [run]; integration cards
// (`latflow integrate`) have [integrand], [nis], [vegas], [output] and [run]. Each kind is a CardSchema.
// Every key a run card may hold is declared once in its schema (experiments/runcard_schema.cpp) with its
// type, default, allowed range or choices and a one-line doc; the schema is what `latflow config show` prints and what validation enforces.
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

/// The schema of lattice cards, in the order `config show` prints it.
const std::vector<KeySpec>& runcard_schema();
/// The schema of integration cards.
const std::vector<KeySpec>& integration_schema();

struct RunCard;

/// A kind of run card: its keys and the resolution steps that depend on the kind.
struct CardSchema {
  const std::vector<KeySpec>& (*keys)();
  /// Fills keys that depend on others (a preset, a theory's defaults) before the conditions are checked;
  /// `where` prefixes error messages.
  void (*fill)(RunCard& card, const std::string& where);
  /// Cross-key rules and derived values, after validation.
  void (*finish)(RunCard& card);
};

/// Lattice cards (the default of every function below) and integration cards.
const CardSchema& lattice_cards();
const CardSchema& integration_cards();
/// The kind of the card at `path`: an integration card if it has an [integrand], [nis] or [vegas] section,
/// else a lattice card (a file that cannot be read or parsed counts as a lattice card; loading it says why).
const CardSchema& card_kind(const std::string& path);

/// Defaults that depend on lattice.theory (the model a theory samples with, unless the card says otherwise);
/// applied after the preset and before validation, so `config show` prints them like any default.
const std::vector<std::pair<std::string, ConfigValue>>& theory_defaults(const std::string& theory);

/// Whether model.prior_m2 is derived from the lattice (model.prior_m0L > 0) rather than given.
bool prior_m2_from_L(const Config& card);

/// What a key allows, as printed by `config show` and in errors: "an integer in [2, 4096]",
/// "one of 'rk4', 'dopri5'", "true or false".
std::string allowed_values(const KeySpec& spec);

/// A resolved, validated run card plus where it came from.
struct RunCard {
  Config config;
  std::string source;                 ///< the card's path, or "" for an in-memory card
  std::set<std::string> explicit_keys;///< keys given by the card or --set (not defaults or a preset)
  const CardSchema* schema = &lattice_cards();

  /// TOML of the resolved card, keys in schema order, each with its doc and allowed values as a comment.
  std::string to_toml(bool with_docs = true) const;
};

/// Parses "section.key=value" overrides; the value is read with the type the schema gives the key.
std::vector<std::pair<std::string, ConfigValue>> parse_overrides(const std::vector<std::string>& sets,
                                                                 const CardSchema& schema = lattice_cards());

/// Loads, resolves and validates a run card file; throws ConfigError (or UserError for I/O) on bad input.
RunCard load_runcard(const std::string& path, const std::vector<std::string>& sets = {},
                     const CardSchema& schema = lattice_cards());
/// The same from TOML text (tests, and cards stored in run directories).
RunCard parse_runcard(const std::string& toml_text, const std::string& source,
                      const std::vector<std::string>& sets = {}, const CardSchema& schema = lattice_cards());

}  // namespace latflow
