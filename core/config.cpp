#include "core/config.hpp"

#include <iomanip>
#include <limits>
#include <sstream>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/error.hpp"

namespace latflow {

namespace {
const ConfigValue& lookup(const std::map<std::string, ConfigValue>& m, const std::string& key) {
  auto it = m.find(key);
  if (it == m.end()) throw ConfigError("missing run-card key '" + key + "'");
  return it->second;
}
[[noreturn]] void wrong_type(const std::string& key, const ConfigValue& v, const char* want) {
  throw ConfigError("run-card key '" + key + "' is a " + type_name(v) + ", expected a " + want);
}
}  // namespace

template <>
bool Config::get<bool>(const std::string& key) const {
  const auto& v = lookup(values_, key);
  if (auto p = std::get_if<bool>(&v)) return *p;
  wrong_type(key, v, "boolean");
}
template <>
std::int64_t Config::get<std::int64_t>(const std::string& key) const {
  const auto& v = lookup(values_, key);
  if (auto p = std::get_if<std::int64_t>(&v)) return *p;
  wrong_type(key, v, "integer");
}
template <>
int Config::get<int>(const std::string& key) const {
  const std::int64_t x = get<std::int64_t>(key);
  if (x < std::numeric_limits<int>::min() || x > std::numeric_limits<int>::max())
    throw ConfigError("run-card key '" + key + "' = " + std::to_string(x) + " is out of range");
  return static_cast<int>(x);
}
template <>
double Config::get<double>(const std::string& key) const {
  const auto& v = lookup(values_, key);
  if (auto p = std::get_if<double>(&v)) return *p;
  if (auto p = std::get_if<std::int64_t>(&v)) return static_cast<double>(*p);
  wrong_type(key, v, "number");
}
template <>
std::string Config::get<std::string>(const std::string& key) const {
  const auto& v = lookup(values_, key);
  if (auto p = std::get_if<std::string>(&v)) return *p;
  wrong_type(key, v, "string");
}

std::string type_name(const ConfigValue& v) {
  static const char* names[] = {"boolean", "integer", "number", "string"};
  return names[v.index()];
}

std::string to_toml_literal(const ConfigValue& v) {
  std::ostringstream os;
  std::visit(
      [&os](const auto& x) {
        using T = std::decay_t<decltype(x)>;
        if constexpr (std::is_same_v<T, bool>) {
          os << (x ? "true" : "false");
        } else if constexpr (std::is_same_v<T, std::string>) {
          os << nlohmann::json(x).dump();  // JSON string escaping is valid TOML basic-string escaping
        } else if constexpr (std::is_same_v<T, double>) {
          std::ostringstream num;
          num << std::setprecision(std::numeric_limits<double>::max_digits10 - 2) << x;
          std::string s = num.str();
          // Keep it a float in TOML: "4" would read back as an integer.
          if (s.find_first_of(".eEn") == std::string::npos) s += ".0";
          os << s;
        } else {
          os << x;
        }
      },
      v);
  return os.str();
}

std::string Config::to_toml() const {
  std::ostringstream os;
  std::string section;
  for (const auto& [key, value] : values_) {
    const auto dot = key.find('.');
    const std::string sec = key.substr(0, dot);
    if (sec != section) {
      os << (section.empty() ? "" : "\n") << "[" << sec << "]\n";
      section = sec;
    }
    os << key.substr(dot + 1) << " = " << to_toml_literal(value) << "\n";
  }
  return os.str();
}

nlohmann::json Config::to_json() const {
  nlohmann::json j = nlohmann::json::object();
  for (const auto& [key, value] : values_) {
    const auto dot = key.find('.');
    std::visit([&](const auto& x) { j[key.substr(0, dot)][key.substr(dot + 1)] = x; }, value);
  }
  return j;
}

}  // namespace latflow
