#pragma once
// A resolved run card: a flat map "section.key" -> typed value. It is what every registry builder reads.
// Parsing, defaults and validation live in experiments/runcard.hpp; by the time a Config reaches a
// builder every key it asks for exists with the type the schema promises.
#include <cstdint>
#include <map>
#include <string>
#include <variant>

#include <nlohmann/json_fwd.hpp>

namespace latflow {

using ConfigValue = std::variant<bool, std::int64_t, double, std::string>;

class Config {
 public:
  bool has(const std::string& key) const { return values_.count(key) != 0; }
  void set(const std::string& key, ConfigValue value) { values_[key] = std::move(value); }
  void erase(const std::string& key) { values_.erase(key); }

  /// The value of `key` as T (bool, std::int64_t, int, double or std::string). An integer is accepted
  /// where a double is asked for. A missing key or another type is a ConfigError naming the key.
  template <class T>
  T get(const std::string& key) const;

  const std::map<std::string, ConfigValue>& values() const { return values_; }

  /// TOML text with one [section] per prefix, keys in schema order when `order` is given.
  std::string to_toml() const;
  nlohmann::json to_json() const;

 private:
  std::map<std::string, ConfigValue> values_;
};

/// The type name used in messages: "boolean", "integer", "number", "string".
std::string type_name(const ConfigValue& v);
/// A value as TOML would write it.
std::string to_toml_literal(const ConfigValue& v);

}  // namespace latflow
