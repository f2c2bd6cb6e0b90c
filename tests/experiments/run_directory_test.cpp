#include <catch2/catch.hpp>

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "core/error.hpp"
#include "core/files.hpp"
#include "experiments/run_directory.hpp"

using namespace latflow;
namespace fs = std::filesystem;

TEST_CASE("run directories never overwrite an earlier run without --force", "[experiments]") {
  const std::string path = (fs::temp_directory_path() / "latflow-rundir-test").string();
  remove_tree(path);
  {
    RunDirectory d(path, RunDirectory::Mode::Fresh);
    d.write_file("runcard.toml", "x");
    d.append_metrics({{"step", 1}});
    d.append_metrics({{"step", 2}});
    d.append_metrics({{"step", 3}});
  }
  CHECK_THROWS_WITH(RunDirectory(path, RunDirectory::Mode::Fresh), Catch::Contains("--force"));
  {
    // A run killed before its first checkpoint can still be resumed (it restarts from step 0).
    RunDirectory d(path, RunDirectory::Mode::Resume);
    d.truncate_metrics(2);
    d.append_metrics({{"step", 3}, {"again", true}});
  }
  std::ifstream in(path + "/metrics.jsonl");
  std::vector<std::string> lines;
  for (std::string l; std::getline(in, l);) lines.push_back(l);
  REQUIRE(lines.size() == 3);
  CHECK(lines[2] == R"({"again":true,"step":3})");
  std::ofstream(path + "/checkpoint.pt") << "x";
  std::ofstream(path + "/eval-4x4.json") << "{}";
  std::ofstream(path + "/notes.txt") << "mine";
  { RunDirectory d(path, RunDirectory::Mode::Force); }
  CHECK_FALSE(fs::exists(path + "/runcard.toml"));
  CHECK_FALSE(fs::exists(path + "/checkpoint.pt"));
  CHECK_FALSE(fs::exists(path + "/eval-4x4.json"));  // an earlier run's evaluation is its output too
  CHECK(fs::exists(path + "/notes.txt"));            // what latflow did not write stays
  remove_tree(path);
  CHECK_THROWS_WITH(RunDirectory(path, RunDirectory::Mode::Resume), Catch::Contains("holds no run"));
}

TEST_CASE("a run directory has one writer at a time", "[experiments]") {
  const std::string path = (fs::temp_directory_path() / "latflow-rundir-lock").string();
  remove_tree(path);
  RunDirectory first(path, RunDirectory::Mode::Fresh);
  first.write_file("runcard.toml", "x");
  CHECK_THROWS_WITH(RunDirectory(path, RunDirectory::Mode::Force),
                    Catch::Contains("in use by another latflow process") && Catch::Contains("pid"));
  CHECK_THROWS_WITH(RunDirectory(path, RunDirectory::Mode::Resume), Catch::Contains("in use"));
  CHECK_NOTHROW(RunDirectory(path, RunDirectory::Mode::Read));  // evaluations may read a run in use
  // Another process is refused the same way (flock is per open file, so this holds across processes).
  const std::string cmd = std::string("flock -n ") + path + "/.lock true";
  CHECK(WEXITSTATUS(std::system(cmd.c_str())) != 0);
}
