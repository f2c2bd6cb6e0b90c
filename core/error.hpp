#pragma once
// Errors that reach the user. A UserError is bad input (a run card, a flag, a file) or a failure whose
// remedy is the user's (a diverged training, a disk that is full): the CLI prints its message on one line
// and exits with status 2. A CheckFailed is a result that was produced and written but failed a check the
// user asked to be strict about (--strict): status 3. Anything else escaping to the CLI is a bug (status 1).
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

/// A requested quality check failed (e.g. the solver error under --strict); the results are written.
class CheckFailed : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

}  // namespace latflow
