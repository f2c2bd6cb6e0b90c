#pragma once
// The bridge to the Python plotting scripts in plots/: they read only the CSV/JSON results of a run or
// study, so plots can be remade (`latflow plot DIR`) without rerunning anything.
#include <ostream>
#include <string>
#include <vector>

namespace latflow {

/// Runs plots/<script>.py on `dir`; returns the paths of the PNGs it wrote (its output lines ending in .png), or
/// nothing (with a warning on `err`) when no Python with matplotlib is available or the script fails.
/// Never throws: a missing plot must not lose a finished run. Python: $LATFLOW_PYTHON, else the one found
/// by scripts/setup.sh, else python3.
std::vector<std::string> plot_run(const std::string& dir, const std::string& script, std::ostream& err);

}  // namespace latflow
