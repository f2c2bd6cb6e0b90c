#include "experiments/runcard.hpp"

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <fstream>
#include <sstream>

#include <toml++/toml.h>

#include "core/error.hpp"
#include "core/files.hpp"
#include "core/text.hpp"
#include "flows/hierarchical.hpp"
#include "lattice/presets.hpp"

namespace latflow {

namespace {

const KeySpec* find_spec(const std::string& key, const CardSchema& schema) {
  for (const auto& s : schema.keys())
    if (s.key == key) return &s;
  return nullptr;
}

std::vector<std::string> all_keys(const CardSchema& schema) {
  std::vector<std::string> keys;
  for (const auto& s : schema.keys()) keys.push_back(s.key);
  return keys;
}

std::vector<std::string> all_sections(const CardSchema& schema) {
  std::vector<std::string> out;
  for (const auto& s : schema.keys()) {
    const std::string sec = s.key.substr(0, s.key.find('.'));
    if (out.empty() || out.back() != sec) out.push_back(sec);
  }
  return out;
}

[[noreturn]] void unknown_key(const std::string& key, const std::string& where, const CardSchema& schema) {
  const auto dot = key.find('.');
  const auto sections = all_sections(schema);
  const auto keys = all_keys(schema);
  const std::string sec = key.substr(0, dot);
  if (dot == std::string::npos)
    throw ConfigError(where + "'" + key + "' is not a run-card key; keys are written section.key" +
                      text::did_you_mean(key, keys));
  bool known_section = false;
  for (const auto& s : sections) known_section |= (s == sec);
  if (!known_section) {
    // A section of the other kind of card: say which command reads it.
    const bool integration = &schema == &integration_cards();
    const auto other = all_sections(integration ? lattice_cards() : integration_cards());
    const std::string kind =
        std::find(other.begin(), other.end(), sec) == other.end() ? ""
        : integration ? " (a section of lattice run cards, read by train, run and mcmc; `latflow integrate` reads "
                        "integration cards)"
                      : " (a section of integration cards, read by `latflow integrate`)";
    throw ConfigError(where + "unknown section [" + sec + "]" + kind + text::did_you_mean(sec, sections) +
                      "; sections: " + text::quoted_list(sections));
  }
  std::vector<std::string> in_section;
  for (const auto& k : keys)
    if (k.rfind(sec + ".", 0) == 0) in_section.push_back(k);
  std::string hint = text::did_you_mean(key, in_section);
  if (hint.empty()) hint = text::did_you_mean(key, keys);
  throw ConfigError(where + "unknown key '" + key + "'" + hint + "; keys of [" + sec +
                    "]: " + text::quoted_list(in_section));
}

/// The schema's type for a key, from its default (keys without one are numbers).
ConfigValue typed_like(const KeySpec& spec) {
  return spec.fallback ? *spec.fallback : ConfigValue(0.0);
}

/// Converts a TOML node to the key's type, or throws naming the key and both types.
ConfigValue from_toml(const KeySpec& spec, const toml::node& node, const std::string& where) {
  const ConfigValue want = typed_like(spec);
  auto wrong = [&](const std::string& got) -> ConfigError {
    const std::string type = type_name(want);
    return ConfigError(where + "'" + spec.key + "' must be " + (type == "integer" ? "an " : "a ") + type +
                       ", got " + got);
  };
  switch (want.index()) {
    case 0:
      if (auto v = node.value_exact<bool>()) return *v;
      break;
    case 1:
      if (auto v = node.value_exact<std::int64_t>()) return *v;
      if (auto v = node.value_exact<double>())
        throw wrong("the non-integer " + to_toml_literal(*v));
      break;
    case 2:
      if (auto v = node.value_exact<double>()) return *v;
      if (auto v = node.value_exact<std::int64_t>()) return static_cast<double>(*v);
      break;
    case 3:
      if (auto v = node.value_exact<std::string>()) return *v;
      break;
  }
  std::ostringstream got;
  got << "a " << node.type() << " (";
  node.visit([&got](const auto& n) { got << n; });
  got << ")";
  throw wrong(got.str());
}

/// Reads a --set value with the key's type.
ConfigValue from_text(const KeySpec& spec, const std::string& text) {
  const ConfigValue want = typed_like(spec);
  const std::string where = "--set " + spec.key + "=" + text + ": ";
  switch (want.index()) {
    case 0:
      if (text == "true") return true;
      if (text == "false") return false;
      throw ConfigError(where + "expected true or false");
    case 1: {
      errno = 0;
      char* end = nullptr;
      const long long v = std::strtoll(text.c_str(), &end, 10);
      if (text.empty() || *end != '\0' || errno == ERANGE)
        throw ConfigError(where + "expected an integer");
      return static_cast<std::int64_t>(v);
    }
    case 2: {
      errno = 0;
      char* end = nullptr;
      const double v = std::strtod(text.c_str(), &end);
      if (text.empty() || *end != '\0' || errno == ERANGE)
        throw ConfigError(where + "expected a number");
      return v;
    }
    default: {
      std::string s = text;
      if (s.size() >= 2 && (s.front() == '"' || s.front() == '\'') && s.back() == s.front())
        s = s.substr(1, s.size() - 2);
      return s;
    }
  }
}

/// "k=a|b": the key k has one of the listed values; "c1;c2": any of the conditions holds.
bool condition_holds(const std::string& cond, const Config& c) {
  if (cond.empty()) return true;
  if (const auto semi = cond.find(';'); semi != std::string::npos)
    return condition_holds(cond.substr(0, semi), c) || condition_holds(cond.substr(semi + 1), c);
  const auto eq = cond.find('=');
  const std::string key = cond.substr(0, eq);
  if (!c.has(key)) return false;
  const std::string actual = c.get<std::string>(key);
  std::size_t begin = eq + 1;
  while (true) {
    const std::size_t bar = cond.find('|', begin);
    if (cond.compare(begin, bar == std::string::npos ? std::string::npos : bar - begin, actual) == 0) return true;
    if (bar == std::string::npos) return false;
    begin = bar + 1;
  }
}

/// A condition as a user reads it: lattice.theory = "u1" or "schwinger", or lattice.convention = "beta".
std::string describe_condition(const std::string& cond, const Config& c) {
  std::string out;
  std::size_t begin = 0;
  while (begin <= cond.size()) {
    const std::size_t semi = std::min(cond.find(';', begin), cond.size());
    const std::string one = cond.substr(begin, semi - begin);
    const auto eq = one.find('=');
    const std::string key = one.substr(0, eq);
    std::string values;
    for (std::size_t b = eq + 1; b <= one.size();) {
      const std::size_t bar = std::min(one.find('|', b), one.size());
      values += (values.empty() ? "\"" : " or \"") + one.substr(b, bar - b) + "\"";
      b = bar + 1;
    }
    out += (out.empty() ? "" : ", or ") + key + " = " + values;
    if (c.has(key)) out += " (this card has \"" + c.get<std::string>(key) + "\")";
    begin = semi + 1;
  }
  return out;
}

}  // namespace

bool prior_m2_from_L(const Config& card) {
  return card.has("model.prior_m0L") && card.get<double>("model.prior_m0L") > 0;
}

std::string allowed_values(const KeySpec& spec) {
  if (spec.choices) return "one of " + text::quoted_list(spec.choices());
  const bool is_int = spec.fallback && std::holds_alternative<std::int64_t>(*spec.fallback);
  const bool is_bool = spec.fallback && std::holds_alternative<bool>(*spec.fallback);
  const bool is_string = spec.fallback && std::holds_alternative<std::string>(*spec.fallback);
  if (is_bool) return "true or false";
  if (is_string) return "a string";
  auto fmt = [&](double b) { return is_int ? std::to_string(static_cast<long long>(b)) : to_toml_literal(b); };
  const std::string kind = is_int ? "an integer " : "a number ";
  if (spec.min <= -1e300 && spec.max >= 1e300) return kind.substr(0, kind.size() - 1);
  if (spec.max >= 1e300) return kind + (spec.min_exclusive ? "> " : ">= ") + fmt(spec.min);
  if (spec.min <= -1e300) return kind + "<= " + fmt(spec.max);
  return kind + "in " + (spec.min_exclusive ? "(" : "[") + fmt(spec.min) + ", " + fmt(spec.max) + "]";
}

namespace {

void check_value(const KeySpec& spec, const ConfigValue& v) {
  const std::string name = "'" + spec.key + "' = " + to_toml_literal(v);
  if (const auto* s = std::get_if<std::string>(&v)) {
    if (spec.choices) {
      const auto allowed = spec.choices();
      bool ok = false;
      for (const auto& a : allowed) ok |= (a == *s);
      if (!ok)
        throw ConfigError(name + " is not allowed" + text::did_you_mean(*s, allowed) +
                          "; allowed: " + text::quoted_list(allowed));
    }
    return;
  }
  double x = 0;
  if (const auto* p = std::get_if<double>(&v)) x = *p;
  else if (const auto* q = std::get_if<std::int64_t>(&v)) x = static_cast<double>(*q);
  else return;
  if (!std::isfinite(x)) throw ConfigError(name + " is not a finite number");
  const bool low = spec.min_exclusive ? !(x > spec.min) : !(x >= spec.min);
  if (low || x > spec.max) throw ConfigError(name + " is out of range; allowed: " + allowed_values(spec));
}

/// Cross-key rules that one key's spec cannot express.
void check_consistency(const RunCard& card) {
  const Config& c = card.config;
  if (c.get<std::int64_t>("lattice.T") == 1)
    throw ConfigError("'lattice.T' = 1 is out of range; allowed: 0 (meaning T = L) or >= 2");
}

/// Defaults that depend on other keys, made explicit so that the recorded card names the value used: a
/// model reloaded on another lattice must keep the architecture it was trained with.
void resolve_derived(RunCard& card) {
  Config& c = card.config;
  if (c.get<std::string>("model.type") == "hierarchical" && c.get<std::int64_t>("model.coarse_L") == 0)
    c.set("model.coarse_L", auto_coarse_L(c.get<std::int64_t>("lattice.L")));
  // m0 L wins over a given prior_m2: a recorded card holds both, and evaluating it on another L must move the
  // base along with the lattice.
  if (prior_m2_from_L(c)) {
    const double m0 = c.get<double>("model.prior_m0L") / static_cast<double>(c.get<std::int64_t>("lattice.L"));
    c.set("model.prior_m2", m0 * m0);
  }
}

/// The preset, then the theory's defaults, under what the user wrote.
void fill_lattice(RunCard& card, const std::string& where) {
  const std::string preset_name = card.config.get<std::string>("lattice.preset");
  if (!preset_name.empty()) {
    check_value(*find_spec("lattice.preset", lattice_cards()), preset_name);
    const Preset& p = preset(preset_name);
    if (card.explicit_keys.count("lattice.theory") && card.config.get<std::string>("lattice.theory") != p.theory)
      throw ConfigError(where + "lattice.preset '" + preset_name + "' is a point of the " + p.theory +
                        " theory, but this card has lattice.theory = \"" +
                        card.config.get<std::string>("lattice.theory") + "\"");
    std::vector<std::pair<std::string, ConfigValue>> fill = {{"lattice.theory", p.theory}, {"lattice.L", p.L}};
    for (const auto& [key, value] : p.couplings) fill.emplace_back(key, value);
    for (const auto& [key, value] : fill)
      if (!card.explicit_keys.count(key)) card.config.set(key, value);
  }
  for (const auto& [key, value] : theory_defaults(card.config.get<std::string>("lattice.theory")))
    if (!card.explicit_keys.count(key)) card.config.set(key, value);
}

void finish_lattice(RunCard& card) {
  check_consistency(card);
  resolve_derived(card);
}

}  // namespace

const CardSchema& lattice_cards() {
  static const CardSchema kind{&runcard_schema, &fill_lattice, &finish_lattice};
  return kind;
}

const CardSchema& integration_cards() {
  static const CardSchema kind{&integration_schema, [](RunCard&, const std::string&) {}, [](RunCard&) {}};
  return kind;
}

const CardSchema& card_kind(const std::string& path) {
  try {
    const toml::table t = toml::parse(read_regular_file(path, "run card", std::size_t{1} << 20), path);
    for (const char* section : {"integrand", "nis", "vegas"})
      if (t.contains(section)) return integration_cards();
  } catch (const std::exception&) {
  }
  return lattice_cards();
}

std::vector<std::pair<std::string, ConfigValue>> parse_overrides(const std::vector<std::string>& sets,
                                                                 const CardSchema& schema) {
  std::vector<std::pair<std::string, ConfigValue>> out;
  for (const auto& s : sets) {
    const auto eq = s.find('=');
    if (eq == std::string::npos || eq == 0)
      throw ConfigError("--set '" + s + "' is not of the form section.key=value");
    const std::string key = s.substr(0, eq);
    const KeySpec* spec = find_spec(key, schema);
    if (!spec) unknown_key(key, "--set: ", schema);
    out.emplace_back(key, from_text(*spec, s.substr(eq + 1)));
  }
  return out;
}

RunCard parse_runcard(const std::string& toml_text, const std::string& source,
                      const std::vector<std::string>& sets, const CardSchema& schema) {
  const std::string where = source.empty() ? "" : source + ": ";
  toml::table table;
  try {
    table = toml::parse(toml_text, source);
  } catch (const toml::parse_error& e) {
    const auto& b = e.source().begin;
    throw ConfigError(where + "TOML syntax error at line " + std::to_string(b.line) + ", column " +
                      std::to_string(b.column) + ": " + std::string(e.description()));
  }

  RunCard card;
  card.source = source;
  card.schema = &schema;
  std::vector<std::pair<std::string, ConfigValue>> given;
  for (const auto& [sec_key, sec_node] : table) {
    const std::string sec(sec_key.str());
    const auto* sec_table = sec_node.as_table();
    if (!sec_table) {
      if (!find_spec(sec, schema)) unknown_key(sec, where, schema);
      throw ConfigError(where + "'" + sec + "' must be inside a [section]");
    }
    for (const auto& [k, node] : *sec_table) {
      const std::string key = sec + "." + std::string(k.str());
      const KeySpec* spec = find_spec(key, schema);
      if (!spec) unknown_key(key, where, schema);
      given.emplace_back(key, from_toml(*spec, node, where));
    }
  }
  for (auto& kv : parse_overrides(sets, schema)) given.push_back(std::move(kv));

  // Defaults, then what the user wrote, then what depends on it (a preset, a theory's defaults).
  for (const auto& s : schema.keys())
    if (s.fallback) card.config.set(s.key, *s.fallback);
  for (const auto& [key, value] : given) {
    card.config.set(key, value);
    card.explicit_keys.insert(key);
  }
  schema.fill(card, where);

  // Keys that belong to another convention (or model) are errors when given, absent otherwise.
  for (const auto& s : schema.keys()) {
    const bool applies = condition_holds(s.only_with, card.config);
    if (!applies) {
      if (card.explicit_keys.count(s.key))
        throw ConfigError(where + "'" + s.key + "' is used only with " + describe_condition(s.only_with, card.config));
      card.config.erase(s.key);
      continue;
    }
    if (!card.config.has(s.key)) {
      // Name the alternative of the condition that holds, not all of them.
      std::string with;
      for (std::size_t b = 0; b < s.only_with.size();) {
        const std::size_t semi = std::min(s.only_with.find(';', b), s.only_with.size());
        const std::string one = s.only_with.substr(b, semi - b);
        if (with.empty() && condition_holds(one, card.config)) with = " with " + describe_condition(one, card.config);
        b = semi + 1;
      }
      throw ConfigError(where + "'" + s.key + "' is required" + with + " (" + s.doc + ")");
    }
    try {
      check_value(s, card.config.values().at(s.key));
    } catch (const ConfigError& e) {
      throw ConfigError(where + e.what());
    }
  }
  try {
    schema.finish(card);
  } catch (const ConfigError& e) {
    throw ConfigError(where + e.what());
  }
  return card;
}

RunCard load_runcard(const std::string& path, const std::vector<std::string>& sets, const CardSchema& schema) {
  // A run card is a small text file; a megabyte is far more than any card and less than any mistake.
  const std::string text = read_regular_file(path, "run card", std::size_t{1} << 20);
  bool has_content = false;
  try {
    has_content = !toml::parse(text, path).empty();
  } catch (const toml::parse_error&) {
    has_content = true;  // parse_runcard reports the syntax error with its position
  }
  if (!has_content)
    throw ConfigError(path + ": the run card is empty; a card sets at least one key (all defaults: "
                      "experiments/runcards/quickstart.toml is a starting point)");
  return parse_runcard(text, path, sets, schema);
}

std::string RunCard::to_toml(bool with_docs) const {
  std::ostringstream os;
  std::string section;
  for (const auto& s : schema->keys()) {
    if (!config.has(s.key)) continue;
    const auto dot = s.key.find('.');
    const std::string sec = s.key.substr(0, dot);
    if (sec != section) {
      os << (section.empty() ? "" : "\n") << "[" << sec << "]\n";
      section = sec;
    }
    std::string line = s.key.substr(dot + 1) + " = " + to_toml_literal(config.values().at(s.key));
    if (with_docs)
      line += std::string(line.size() < 34 ? 34 - line.size() : 1, ' ') + "# " + s.doc + " [" + allowed_values(s) + "]";
    os << line << "\n";
  }
  return os.str();
}

}  // namespace latflow
