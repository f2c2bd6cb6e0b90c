#include <catch2/catch.hpp>

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
  CHECK_THROWS_WITH(RunDirectory(path, RunDirectory::Mode::Resume), Catch::Contains("no checkpoint"));
  {
    std::ofstream(path + "/checkpoint.pt") << "x";
    RunDirectory d(path, RunDirectory::Mode::Resume);
    d.truncate_metrics(2);
    d.append_metrics({{"step", 3}, {"again", true}});
  }
  std::ifstream in(path + "/metrics.jsonl");
  std::vector<std::string> lines;
  for (std::string l; std::getline(in, l);) lines.push_back(l);
  REQUIRE(lines.size() == 3);
  CHECK(lines[2] == R"({"again":true,"step":3})");
  { RunDirectory d(path, RunDirectory::Mode::Force); }
  CHECK_FALSE(fs::exists(path + "/runcard.toml"));
  CHECK_FALSE(fs::exists(path + "/checkpoint.pt"));
}
