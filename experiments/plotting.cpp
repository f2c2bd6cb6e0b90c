#include "experiments/plotting.hpp"

#include <cstdio>
#include <cstdlib>
#include <filesystem>

#include "core/version.hpp"

namespace latflow {

namespace {
std::string shell_quote(const std::string& s) {
  std::string q = "'";
  for (char ch : s) q += ch == '\'' ? std::string("'\\''") : std::string(1, ch);
  return q + "'";
}
}  // namespace

std::vector<std::string> plot_run(const std::string& dir, const std::string& script, std::ostream& err) {
  const char* env_python = std::getenv("LATFLOW_PYTHON");
  const char* env_plots = std::getenv("LATFLOW_PLOTS_DIR");
  std::string python = env_python && *env_python ? env_python : kPlotPython;
  if (python.empty()) python = "python3";
  const std::string plots = env_plots && *env_plots ? env_plots : kPlotsDir;
  const std::string path = plots + "/" + script + ".py";
  if (!std::filesystem::exists(path)) {
    err << "warning: plot skipped: " << path << " not found (set LATFLOW_PLOTS_DIR)\n";
    return {};
  }
  const std::string cmd = shell_quote(python) + " " + shell_quote(path) + " " + shell_quote(dir);
  std::vector<std::string> written;
  FILE* pipe = popen(cmd.c_str(), "r");
  if (pipe) {
    char buffer[4096];
    std::string text;
    while (std::fgets(buffer, sizeof buffer, pipe)) text += buffer;
    for (std::size_t begin = 0, end; begin < text.size(); begin = end + 1) {
      end = text.find('\n', begin);
      if (end == std::string::npos) end = text.size();
      const std::string line = text.substr(begin, end - begin);
      // Scripts print the PNGs they wrote, one per line, among other lines (fit results).
      if (line.size() > 4 && line.compare(line.size() - 4, 4, ".png") == 0) written.push_back(line);
    }
  }
  if (!pipe || pclose(pipe) != 0) {
    err << "warning: plot skipped: `" << cmd << "` failed (is matplotlib installed? scripts/setup.sh installs it)\n";
    return {};
  }
  return written;
}

}  // namespace latflow
