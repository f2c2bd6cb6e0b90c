#pragma once
// Errors that reach the user. A UserError is bad input (a run card, a flag, a file): the CLI prints its
// message on one line and exits with status 2. Anything else escaping to the CLI is a bug (status 1).
#include <stdexcept>
#include <string>

namespace latflow {

/// Bad input from the user: the message says what was wrong and what is allowed.
class UserError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// Bad run-card or study-file content (unknown key, wrong type, value out of range).
class ConfigError : public UserError {
 public:
  using UserError::UserError;
};

}  // namespace latflow
