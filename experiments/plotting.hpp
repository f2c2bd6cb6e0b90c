#pragma once
// The bridge to the Python plotting scripts in plots/: they read only the CSV/JSON results of a run or
// study, so plots can be remade (`latflow plot DIR`) without rerunning anything.
#include <ostream>
#include <string>
#include <vector>

namespace latflow {

/// The Python latflow uses for plots and names in hints: $LATFLOW_PYTHON, else the one scripts/setup.sh
/// found (it has numpy and matplotlib), else python3.
std::string plot_python();

/// Whether `python` can import `module`.
bool python_has(const std::string& python, const std::string& module);

/// Runs plots/<script>.py on `dir`; returns the paths of the PNGs it wrote (its output lines ending in .png), or
/// nothing (with a one-line warning on `err` saying why: no matplotlib, or the script's own last error line)
/// when it cannot. Never throws: a missing plot must not lose a finished run.
std::vector<std::string> plot_run(const std::string& dir, const std::string& script, std::ostream& err);

/// A shell command that loads the .npy file `path` (configurations under `field`) with numpy, naming an
/// interpreter that has numpy.
std::string numpy_hint(const std::string& path, const std::string& field);

}  // namespace latflow
