#pragma once
// The `latflow` command line: `latflow <command> [args]`. The executable is a thin wrapper around
// run_cli so that the tests drive the same code with captured output.
#include <iosfwd>

namespace latflow::cli {

/// Runs the command line; returns the exit status (0 ok, 1 internal error, 2 bad input, 130 interrupted).
int run_cli(int argc, const char* const* argv, std::ostream& out, std::ostream& err);

}  // namespace latflow::cli
