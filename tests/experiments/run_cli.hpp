#pragma once
// Runs the latflow command line in-process, capturing its exit status and both output streams.
#include <sstream>
#include <string>
#include <vector>

#include "experiments/cli.hpp"

namespace latflow::testing {

struct CliResult {
  int code;
  std::string out, err;
};

/// `args` without the program name, e.g. {"config", "show", "card.toml"}.
inline CliResult run_cli(std::vector<std::string> args) {
  args.insert(args.begin(), "latflow");
  std::vector<const char*> argv;
  for (const auto& a : args) argv.push_back(a.c_str());
  std::ostringstream out, err;
  const int code = latflow::cli::run_cli(static_cast<int>(argv.size()), argv.data(), out, err);
  return {code, out.str(), err.str()};
}

}  // namespace latflow::testing
