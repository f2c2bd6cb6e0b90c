#include "experiments/study.hpp"

#include <algorithm>
#include <limits>
#include <filesystem>
#include <sstream>

#include <toml++/toml.h>

#include "core/error.hpp"
#include "core/text.hpp"
#include "experiments/runcard.hpp"
#include "lattice/presets.hpp"

namespace fs = std::filesystem;

namespace latflow {

namespace {

const std::vector<std::string> kStudyKeys = {
    "kind",          "families",       "cards",       "presets",         "L",           "m2",
    "lambda",        "seeds",          "target_metric", "target",        "max_steps",   "max_seconds",
    "eval_every",    "output",         "pretrain_preset", "pretrain_L",  "pretrain_m2", "pretrain_lambda",
    "pretrain_steps", "hmc",         "reuse"};

/// A TOML value as the text a --set override would carry.
std::string override_text(const toml::node& node, const std::string& where) {
  if (auto s = node.value_exact<std::string>()) return *s;
  if (auto b = node.value_exact<bool>()) return *b ? "true" : "false";
  if (auto i = node.value_exact<std::int64_t>()) return std::to_string(*i);
  if (auto d = node.value_exact<double>()) {
    std::ostringstream os;
    os.precision(17);
    os << *d;
    return os.str();
  }
  throw ConfigError(where + "must be a string, number or boolean");
}

class Reader {
 public:
  Reader(const toml::table& t, std::string where) : t_(t), where_(std::move(where)) {}

  bool has(const std::string& key) const { return t_.contains(key); }
  std::string at(const std::string& key) const { return where_ + "study." + key + ": "; }

  std::string string(const std::string& key, const std::string& fallback) const {
    if (!has(key)) return fallback;
    if (auto v = t_[key].value_exact<std::string>()) return *v;
    throw ConfigError(at(key) + "must be a string");
  }
  double number(const std::string& key, double fallback, double min) const {
    if (!has(key)) return fallback;
    const auto v = t_[key].value<double>();
    if (!v || !t_[key].is_number()) throw ConfigError(at(key) + "must be a number");
    if (!(*v >= min)) throw ConfigError(at(key) + "is out of range; allowed: >= " + std::to_string(min));
    return *v;
  }
  bool boolean(const std::string& key, bool fallback) const {
    if (!has(key)) return fallback;
    if (auto v = t_[key].value_exact<bool>()) return *v;
    throw ConfigError(at(key) + "must be true or false");
  }
  std::int64_t integer(const std::string& key, std::int64_t fallback, std::int64_t min) const {
    if (!has(key)) return fallback;
    const auto v = t_[key].value_exact<std::int64_t>();
    if (!v) throw ConfigError(at(key) + "must be an integer");
    if (*v < min) throw ConfigError(at(key) + "is out of range; allowed: >= " + std::to_string(min));
    return *v;
  }
  template <class T>
  std::vector<T> list(const std::string& key) const {
    std::vector<T> out;
    if (!has(key)) return out;
    const toml::array* a = t_[key].as_array();
    if (!a) throw ConfigError(at(key) + "must be an array, e.g. [1, 2]");
    for (const auto& e : *a) {
      std::optional<T> v;
      if constexpr (std::is_same_v<T, double>)
        v = e.is_number() ? e.value<double>() : std::nullopt;
      else
        v = e.value_exact<T>();
      if (!v) throw ConfigError(at(key) + "has an element of the wrong type");
      out.push_back(*v);
    }
    return out;
  }

 private:
  const toml::table& t_;
  std::string where_;
};

std::vector<LatticePoint> read_points(const Reader& r, const std::string& prefix) {
  std::vector<LatticePoint> points;
  const std::string presets_key = prefix.empty() ? "presets" : prefix + "preset";
  const auto from_preset = [&](const std::string& name) {
    try {
      const Preset& p = preset(name);
      return LatticePoint{name, p.theory, p.L, p.couplings};
    } catch (const UserError& e) {
      throw ConfigError(r.at(presets_key) + e.what());
    }
  };
  if (prefix.empty()) {
    for (const auto& p : r.list<std::string>("presets")) points.push_back(from_preset(p));
  } else if (r.has(presets_key)) {
    points.push_back(from_preset(r.string(presets_key, "")));
  }
  const std::string L_key = prefix + "L", m2_key = prefix + "m2", lambda_key = prefix + "lambda";
  if (r.has(L_key)) {
    if (!points.empty())
      throw ConfigError(r.at(L_key) + "give the lattices either by " + presets_key + " or by " + L_key + ", " +
                        m2_key + ", " + lambda_key + ", not both");
    std::vector<std::int64_t> Ls;
    std::vector<double> m2s, lambdas;
    if (prefix.empty()) {
      Ls = r.list<std::int64_t>(L_key);
      m2s = r.list<double>(m2_key);
      lambdas = r.list<double>(lambda_key);
    } else {
      for (const auto& k : {m2_key, lambda_key})
        if (!r.has(k)) throw ConfigError(r.at(L_key) + "needs " + m2_key + " and " + lambda_key + " as well");
      Ls = {r.integer(L_key, 0, 2)};
      m2s = {r.number(m2_key, 0, -1e300)};
      lambdas = {r.number(lambda_key, 0, 0)};
    }
    if (m2s.size() != Ls.size() || lambdas.size() != Ls.size())
      throw ConfigError(r.at(L_key) + m2_key + " and " + lambda_key + " need one value per lattice size (" +
                        std::to_string(Ls.size()) + ")");
    for (std::size_t i = 0; i < Ls.size(); ++i)
      points.push_back({"", "phi4", Ls[i], {{"lattice.m2", m2s[i]}, {"lattice.lambda", lambdas[i]}}});
  } else {
    for (const auto& k : {m2_key, lambda_key})
      if (r.has(k)) throw ConfigError(r.at(k) + "is used only together with " + L_key);
  }
  return points;
}

std::string resolve_card(const std::string& card, const std::string& study_path) {
  if (fs::exists(card)) return card;
  const fs::path beside = fs::path(study_path).parent_path() / card;
  if (fs::exists(beside)) return beside.string();
  throw UserError(study_path + ": run card '" + card + "' not found (paths are relative to the working directory "
                  "or to the study file)");
}

}  // namespace

namespace {
std::string number_text(double x) {
  std::ostringstream os;
  os.precision(17);
  os << x;
  return os.str();
}
}  // namespace

double LatticePoint::coupling(const std::string& key) const {
  for (const auto& [k, v] : couplings)
    if (k == key) return v;
  return std::numeric_limits<double>::quiet_NaN();
}

std::string LatticePoint::str() const {
  std::string s = preset.empty() ? "" : preset + ": ";
  s += "L=" + std::to_string(L);
  for (const auto& [key, value] : couplings) s += "," + key.substr(key.find('.') + 1) + "=" + number_text(value);
  return s;
}

std::vector<std::string> LatticePoint::overrides() const {
  // Every lattice key, so that nothing a family's card sets can leak into the study's lattice.
  std::vector<std::string> out = {"lattice.preset=" + preset, "lattice.theory=" + theory,
                                  "lattice.L=" + std::to_string(L), "lattice.T=0"};
  if (theory == "phi4") out.push_back("lattice.convention=canonical");
  for (const auto& [key, value] : couplings) out.push_back(key + "=" + number_text(value));
  return out;
}

Study load_study(const std::string& path, const std::string& kind, const std::vector<std::string>& sets) {
  if (!fs::exists(path)) throw UserError("study file '" + path + "' not found");
  toml::table root;
  try {
    root = toml::parse_file(path);
  } catch (const toml::parse_error& e) {
    throw ConfigError(path + ": TOML syntax error at line " + std::to_string(e.source().begin.line) + ": " +
                      std::string(e.description()));
  }
  Study st;
  st.path = path;
  const std::string where = path + ": ";
  for (const auto& [key, node] : root) {
    const std::string k(key.str());
    if (k != "study" && k != "overrides")
      throw ConfigError(where + "unknown section [" + k + "]; allowed: [study] and [overrides]");
  }
  if (!root["study"].is_table()) throw ConfigError(where + "needs a [study] section");
  toml::table& table = *root["study"].as_table();

  // --set study.key=value edits the study; other keys pass to every run card.
  for (const auto& s : sets) {
    const auto eq = s.find('=');
    if (eq == std::string::npos) throw ConfigError("--set '" + s + "' is not of the form section.key=value");
    const std::string key = s.substr(0, eq);
    if (key.rfind("study.", 0) != 0) continue;
    const std::string value = s.substr(eq + 1);
    toml::table parsed;
    try {
      parsed = toml::parse("v = " + value);
    } catch (const toml::parse_error&) {
      try {  // a bare word is a string
        parsed = toml::parse("v = \"" + value + "\"");
      } catch (const toml::parse_error& e) {
        throw ConfigError("--set '" + s + "': the value is not a TOML value (" + std::string(e.description()) + ")");
      }
    }
    table.insert_or_assign(key.substr(6), *parsed["v"].node());
  }
  for (const auto& [key, node] : table) {
    const std::string k(key.str());
    bool known = false;
    for (const auto& a : kStudyKeys) known |= a == k;
    if (!known)
      throw ConfigError(where + "unknown key 'study." + k + "'" + text::did_you_mean(k, kStudyKeys) +
                        "; allowed: " + text::quoted_list(kStudyKeys));
  }

  const Reader r(table, where);
  st.kind = r.string("kind", "");
  if (st.kind != kind)
    throw ConfigError(r.at("kind") + "is \"" + st.kind + "\", but `latflow " + kind + "` needs kind = \"" + kind +
                      "\"");
  st.families = r.list<std::string>("families");
  st.cards = r.list<std::string>("cards");
  if (st.families.empty()) throw ConfigError(r.at("families") + "needs at least one family");
  if (st.cards.size() != st.families.size())
    throw ConfigError(r.at("cards") + "needs one run card per family (" + std::to_string(st.families.size()) +
                      " families, " + std::to_string(st.cards.size()) + " cards)");
  for (auto& c : st.cards) c = resolve_card(c, path);
  st.points = read_points(r, "");
  if (st.points.empty()) throw ConfigError(r.at("presets") + "needs at least one lattice (presets or L)");
  st.seeds = r.list<std::int64_t>("seeds");
  if (st.seeds.empty()) st.seeds = {1};
  for (auto s : st.seeds)
    if (s < 0) throw ConfigError(r.at("seeds") + "seeds must be >= 0");
  st.target_metric = r.string("target_metric", "ess");
  if (st.target_metric != "ess" && st.target_metric != "acceptance")
    throw ConfigError(r.at("target_metric") + "is \"" + st.target_metric + "\"; allowed: \"ess\", \"acceptance\"");
  st.target = r.number("target", 0.5, 0);
  if (!(st.target > 0 && st.target <= 1)) throw ConfigError(r.at("target") + "is out of range; allowed: in (0, 1]");
  st.max_steps = r.integer("max_steps", 1000, 1);
  st.max_seconds = r.number("max_seconds", 0, 0);
  st.eval_every = r.integer("eval_every", 25, 1);
  st.output = r.string("output", "");
  if (st.output.empty()) st.output = "studies/" + fs::path(path).stem().string();
  if (kind == "transfer") {
    const auto pre = read_points(r, "pretrain_");
    if (pre.size() != 1) throw ConfigError(where + "a transfer study needs pretrain_preset (or pretrain_L, pretrain_m2, pretrain_lambda)");
    st.pretrain = pre.front();
    st.pretrain_steps = r.integer("pretrain_steps", 0, 1);
    if (st.pretrain_steps == 0) throw ConfigError(r.at("pretrain_steps") + "is required (>= 1)");
    for (const char* k : {"hmc", "reuse"})
      if (r.has(k)) throw ConfigError(r.at(k) + "is used only with kind = \"scaling\"");
  } else {
    for (const char* k : {"pretrain_preset", "pretrain_L", "pretrain_m2", "pretrain_lambda", "pretrain_steps"})
      if (r.has(k)) throw ConfigError(r.at(k) + "is used only with kind = \"transfer\"");
    st.hmc = r.boolean("hmc", false);
    st.reuse = r.list<std::string>("reuse");
    for (const auto& d : st.reuse)
      if (fs::path(d).lexically_normal() == fs::path(st.output).lexically_normal())
        throw ConfigError(r.at("reuse") + "'" + d + "' is this study's own output; list the output directories of "
                          "earlier studies");
  }

  st.family_overrides.assign(st.families.size(), {});
  const auto add = [](std::vector<std::string>& to, const toml::key& key, const toml::node& node,
                       const std::string& at) {
    to.push_back(std::string(key.str()) + "=" + override_text(node, at + std::string(key.str()) + ": "));
  };
  if (const toml::table* o = root["overrides"].as_table())
    for (const auto& [key, node] : *o) {
      const std::string k(key.str());
      if (!node.is_table()) {
        add(st.overrides, key, node, where + "overrides.");
        continue;
      }
      const auto f = std::find(st.families.begin(), st.families.end(), k);
      if (f == st.families.end())
        throw ConfigError(where + "[overrides." + k + "]: no family is called '" + k +
                          "'; a table [overrides.NAME] holds the keys of one family, one of " +
                          text::quoted_list(st.families) + " (a run-card key is quoted: \"train.lr\" = 3e-3)");
      auto& to = st.family_overrides[static_cast<std::size_t>(f - st.families.begin())];
      for (const auto& [fkey, fnode] : *node.as_table()) add(to, fkey, fnode, where + "overrides." + k + ".");
    }
  for (const auto& s : sets)
    if (s.rfind("study.", 0) != 0) {
      st.overrides.push_back(s);
      ++st.command_overrides;
    }
  std::vector<std::string> every = st.overrides;
  for (const auto& f : st.family_overrides) every.insert(every.end(), f.begin(), f.end());
  for (const auto& o : every)
    if (o.rfind("lattice.", 0) == 0 || o.rfind("run.seed", 0) == 0 || o.rfind("output.", 0) == 0)
      throw ConfigError(where + "override '" + o + "': the study itself sets the lattice (presets or L), the seeds "
                        "(study.seeds) and the output (study.output)");
  const auto unique = [&](auto values, const std::string& key) {
    std::sort(values.begin(), values.end());
    if (std::adjacent_find(values.begin(), values.end()) != values.end())
      throw ConfigError(r.at(key) + "has repeated entries; each must appear once");
  };
  unique(st.families, "families");
  unique(st.seeds, "seeds");
  std::vector<std::int64_t> sizes;
  for (const auto& p : st.points) sizes.push_back(p.L);
  unique(sizes, "presets' or 'L");  // rows and run directories are named by L
  if (kind == "transfer")
    for (const auto& p : st.points)
      if (p.L <= st.pretrain.L)
        throw ConfigError(where + "transfer lattice L = " + std::to_string(p.L) +
                          " must be larger than the pretraining lattice L = " + std::to_string(st.pretrain.L));

  // Every run card must resolve at every lattice before hours of training start.
  std::vector<LatticePoint> all = st.points;
  if (kind == "transfer") all.push_back(st.pretrain);
  for (std::size_t f = 0; f < st.cards.size(); ++f)
    for (const auto& p : all) {
      std::vector<std::string> card_sets = st.overrides_for(f);
      for (auto& o : p.overrides()) card_sets.push_back(o);
      try {
        load_runcard(st.cards[f], card_sets);
      } catch (const UserError& e) {
        throw ConfigError(where + "family '" + st.families[f] + "' at " +
                          (p.preset.empty() ? "L = " + std::to_string(p.L) : p.preset) + ": " + e.what());
      }
    }
  return st;
}

std::vector<std::string> Study::overrides_for(std::size_t f) const {
  const auto command = overrides.end() - static_cast<std::ptrdiff_t>(command_overrides);
  std::vector<std::string> sets(overrides.begin(), command);
  sets.insert(sets.end(), family_overrides.at(f).begin(), family_overrides.at(f).end());
  sets.insert(sets.end(), command, overrides.end());
  return sets;
}

std::string Study::to_toml() const {
  toml::table t;
  toml::array fam, crd, seed;
  for (const auto& f : families) fam.push_back(f);
  for (const auto& c : cards) crd.push_back(c);
  for (auto s : seeds) seed.push_back(s);
  toml::array points_arr;
  for (const auto& p : points) points_arr.push_back(p.str());
  toml::array ov;
  for (const auto& o : overrides) ov.push_back(o);
  t.insert("kind", kind);
  t.insert("families", fam);
  t.insert("cards", crd);
  t.insert("lattices", points_arr);
  t.insert("seeds", seed);
  t.insert("target_metric", target_metric);
  t.insert("target", target);
  t.insert("max_steps", max_steps);
  t.insert("max_seconds", max_seconds);
  t.insert("eval_every", eval_every);
  t.insert("overrides", ov);
  toml::table per_family;  // only when there is one, so that the studies recorded before it still match
  for (std::size_t f = 0; f < families.size() && f < family_overrides.size(); ++f) {
    if (family_overrides[f].empty()) continue;
    toml::array a;
    for (const auto& o : family_overrides[f]) a.push_back(o);
    per_family.insert(families[f], a);
  }
  if (!per_family.empty()) t.insert("family_overrides", per_family);
  t.insert("device", device);
  t.insert("threads", threads);
  if (hmc) t.insert("hmc", hmc);  // only when set, so that the studies recorded before it still match
  if (kind == "transfer") {
    t.insert("pretrain", pretrain.str());
    t.insert("pretrain_steps", pretrain_steps);
  }
  std::ostringstream os;
  os << t;
  return os.str();
}

}  // namespace latflow
