// Reading user-given files: only regular files, read errors reported, never "empty".
#include <catch2/catch.hpp>

#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "core/error.hpp"
#include "core/files.hpp"

using namespace latflow;
namespace fs = std::filesystem;

TEST_CASE("read_regular_file refuses what is not a regular file", "[core][files]") {
  const fs::path dir = fs::temp_directory_path() / "latflow-files-test";
  remove_tree(dir.string());
  fs::create_directories(dir);
  std::ofstream(dir / "card.toml") << "[lattice]\nL = 4\n";
  CHECK(read_regular_file((dir / "card.toml").string(), "run card") == "[lattice]\nL = 4\n");
  CHECK_THROWS_WITH(read_regular_file(dir.string(), "run card"), Catch::Contains("is a directory"));
  CHECK_THROWS_WITH(read_regular_file((dir / "none").string(), "run card"), Catch::Contains("cannot read run card"));
  // A FIFO would block a plain open() until a writer appears: refused at once.
  const std::string fifo = (dir / "fifo").string();
  REQUIRE(mkfifo(fifo.c_str(), 0600) == 0);
  CHECK_THROWS_WITH(read_regular_file(fifo, "run card"), Catch::Contains("not a regular file"));
  CHECK_THROWS_WITH(read_regular_file("/dev/null", "run card"), Catch::Contains("not a regular file"));
  // /proc/self/mem is a "regular file" of size 0 whose first read fails: an error, not an empty card.
  CHECK_THROWS_WITH(read_regular_file("/proc/self/mem", "run card"), Catch::Contains("cannot read run card"));
  std::ofstream(dir / "big") << std::string(2000, 'x');
  CHECK_THROWS_WITH(read_regular_file((dir / "big").string(), "run card", 1000), Catch::Contains("more than a run card"));
}

TEST_CASE("write_file_atomically replaces the target and leaves no temporary", "[core][files]") {
  const fs::path dir = fs::temp_directory_path() / "latflow-files-atomic";
  remove_tree(dir.string());
  fs::create_directories(dir);
  const std::string target = (dir / "out.json").string();
  write_file_atomically(target, "one");
  write_file_atomically(target, "two");
  std::ifstream in(target);
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  CHECK(text == "two");
  std::size_t files = 0;
  for (const auto& e : fs::directory_iterator(dir)) files += e.is_regular_file();
  CHECK(files == 1);
  CHECK_THROWS_WITH(write_file_atomically((dir / "no" / "such" / "dir.json").string(), "x"),
                    Catch::Contains("cannot write"));
}
