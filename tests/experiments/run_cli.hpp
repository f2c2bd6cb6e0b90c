#pragma once
// Runs the latflow command line in-process, capturing its exit status and both output streams; and the
// scratch directories and files the command-line tests write.
#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "core/files.hpp"
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

/// Checks that a command failed as bad input does: exit status 2 and one line on stderr containing `expected`.
inline void check_user_error(const CliResult& r, const std::string& expected) {
  INFO(r.err);
  CHECK(r.code == 2);
  CHECK_THAT(r.err, Catch::Contains(expected));
  CHECK(std::count(r.err.begin(), r.err.end(), '\n') == 1);
}

/// Whether j is an estimate {"value": number, "error": number}, as the results files write them.
inline bool is_estimate(const nlohmann::json& j) {
  return j.is_object() && j.contains("value") && j["value"].is_number() && j.contains("error") &&
         j["error"].is_number();
}

/// An empty directory <tmp>/<group>/<name>, removed first if it exists.
inline std::filesystem::path scratch_dir(const std::string& group, const std::string& name) {
  const std::filesystem::path dir = std::filesystem::temp_directory_path() / group / name;
  latflow::remove_tree(dir.string());
  std::filesystem::create_directories(dir);
  return dir;
}

/// Writes `text` to `path`; returns the path.
inline std::string write_text(const std::filesystem::path& path, const std::string& text) {
  std::ofstream(path) << text;
  return path.string();
}

}  // namespace latflow::testing
