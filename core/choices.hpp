#pragma once
// Checks of a name against a fixed list of allowed names (masking strategies, losses, modes: lists too small to
// be registries), with the message every unknown name gets: "unknown <what> '<name>' (did you mean ...); known:
// ...", as Registry::unknown_message words it. And the wall time of a piece of work.
#include <algorithm>
#include <chrono>
#include <string>
#include <vector>

#include "core/error.hpp"
#include "core/text.hpp"

namespace latflow {

/// The index of `name` in `allowed`; an unknown name is a UserError naming `what` and the allowed names.
inline std::size_t require_choice(const std::string& what, const std::string& name,
                                  const std::vector<std::string>& allowed) {
  const auto it = std::find(allowed.begin(), allowed.end(), name);
  if (it == allowed.end())
    throw UserError("unknown " + what + " '" + name + "'" + text::did_you_mean(name, allowed) +
                    "; known: " + text::quoted_list(allowed));
  return static_cast<std::size_t>(it - allowed.begin());
}

/// Seconds of wall time since `start`.
inline double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

}  // namespace latflow
