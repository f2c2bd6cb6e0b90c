#include "experiments/plotting.hpp"

#include <cstdio>
#include <cstdlib>
#include <filesystem>

#include <nlohmann/json.hpp>

#include "core/version.hpp"

namespace latflow {

namespace {
std::string shell_quote(const std::string& s) {
  std::string q = "'";
  for (char ch : s) q += ch == '\'' ? std::string("'\\''") : std::string(1, ch);
  return q + "'";
}

/// Runs `cmd` with stderr folded into stdout; returns its exit status and output.
std::pair<int, std::string> capture(const std::string& cmd) {
  std::string text;
  FILE* pipe = popen((cmd + " 2>&1").c_str(), "r");
  if (!pipe) return {-1, text};
  char buffer[4096];
  while (std::fgets(buffer, sizeof buffer, pipe)) text += buffer;
  return {pclose(pipe), text};
}

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> out;
  for (std::size_t begin = 0, end; begin < text.size(); begin = end + 1) {
    end = text.find('\n', begin);
    if (end == std::string::npos) end = text.size();
    out.push_back(text.substr(begin, end - begin));
  }
  return out;
}
}  // namespace

std::string plot_python() {
  const char* env = std::getenv("LATFLOW_PYTHON");
  if (env && *env) return env;
  return *kPlotPython ? kPlotPython : "python3";
}

bool python_has(const std::string& python, const std::string& module) {
  return capture(shell_quote(python) + " -c " + shell_quote("import " + module)).first == 0;
}

std::vector<std::string> plot_run(const std::string& dir, const std::string& script, std::ostream& err) {
  const char* env_plots = std::getenv("LATFLOW_PLOTS_DIR");
  const std::string python = plot_python();
  const std::string plots = env_plots && *env_plots ? env_plots : kPlotsDir;
  const std::string path = plots + "/" + script + ".py";
  if (!std::filesystem::exists(path)) {
    err << "warning: plot skipped: " << path << " not found (set LATFLOW_PLOTS_DIR)\n";
    return {};
  }
  const auto [status, text] = capture(shell_quote(python) + " " + shell_quote(path) + " " + shell_quote(dir));
  std::vector<std::string> written;
  std::string last;
  for (const auto& line : lines_of(text)) {
    // Scripts print the PNGs they wrote, one per line, among other lines (fit results).
    if (line.size() > 4 && line.compare(line.size() - 4, 4, ".png") == 0) written.push_back(line);
    if (!line.empty()) last = line;
  }
  if (status != 0) {
    if (!python_has(python, "matplotlib"))
      err << "warning: plot skipped: " << python << " has no matplotlib (scripts/setup.sh installs it, or set "
          << "LATFLOW_PYTHON to a Python that has it)\n";
    else
      err << "warning: plot skipped: " << script << ".py failed on " << dir << ": " << last << "\n";
    return {};
  }
  return written;
}

std::string numpy_hint(const std::string& path, const std::string& field) {
  const std::string python = plot_python();
  // A JSON string literal is a valid Python one.
  const std::string code = "import numpy; a = numpy.load(" + nlohmann::json(path).dump() +
                           "); print(a[\"" + field + "\"].shape, a[\"logq\"][:3], a[\"action\"][:3])";
  if (python_has(python, "numpy")) return python + " -c " + shell_quote(code);
  return "python3 -c " + shell_quote(code) + " (any Python with numpy: pip install numpy)";
}

}  // namespace latflow
