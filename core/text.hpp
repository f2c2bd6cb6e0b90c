#pragma once
// Small string helpers for user-facing messages: "did you mean" suggestions and lists of choices.
#include <string>
#include <vector>

namespace latflow::text {

/// Levenshtein edit distance between two strings.
std::size_t edit_distance(const std::string& a, const std::string& b);

/// The candidate closest to `word`, or "" when none is close enough to be a plausible typo.
std::string closest(const std::string& word, const std::vector<std::string>& candidates);

/// " (did you mean 'x'?)" when a close candidate exists, else "".
std::string did_you_mean(const std::string& word, const std::vector<std::string>& candidates);

/// "a, b, c" with each name quoted.
std::string quoted_list(const std::vector<std::string>& names);

}  // namespace latflow::text
