#pragma once
// A named factory: each folder (actions, priors, operators, flows, solvers, estimators) keeps one
// Registry, filled in that folder's registry.cpp with one line per implementation. The same list is what
// `latflow list` prints, what run-card validation accepts, and what the shared conformance tests loop over.
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "core/error.hpp"
#include "core/text.hpp"

namespace latflow {

template <class Product, class... Args>
class Registry {
 public:
  using Builder = std::function<Product(Args...)>;
  struct Entry {
    std::string name;
    std::string description;  ///< one line, shown by `latflow list`
    Builder build;
  };

  /// `kind` names what is registered ("action", "ODE solver", ...) in error messages.
  explicit Registry(std::string kind) : kind_(std::move(kind)) {}

  Registry& add(std::string name, std::string description, Builder build) {
    entries_.push_back({std::move(name), std::move(description), std::move(build)});
    return *this;
  }

  bool contains(const std::string& name) const { return find(name) != nullptr; }

  /// Builds the named product; an unknown name is a UserError listing the known ones.
  Product create(const std::string& name, Args... args) const {
    if (const Entry* e = find(name)) return e->build(std::forward<Args>(args)...);
    throw UserError(unknown_message(name));
  }

  std::string unknown_message(const std::string& name) const {
    return "unknown " + kind_ + " '" + name + "'" + text::did_you_mean(name, names()) +
           "; known: " + text::quoted_list(names());
  }

  std::vector<std::string> names() const {
    std::vector<std::string> out;
    for (const auto& e : entries_) out.push_back(e.name);
    return out;
  }
  const std::vector<Entry>& entries() const { return entries_; }
  const std::string& kind() const { return kind_; }

 private:
  const Entry* find(const std::string& name) const {
    for (const auto& e : entries_)
      if (e.name == name) return &e;
    return nullptr;
  }
  std::string kind_;
  std::vector<Entry> entries_;
};

}  // namespace latflow
