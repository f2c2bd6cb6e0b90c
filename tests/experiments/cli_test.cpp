#include <torch/torch.h>
#include <catch2/catch.hpp>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "run_cli.hpp"

namespace fs = std::filesystem;

namespace {
latflow::testing::CliResult cli(std::vector<std::string> args) { return latflow::testing::run_cli(std::move(args)); }
std::string write_card(const std::string& name, const std::string& text) {
  const fs::path dir = fs::temp_directory_path() / "latflow-cli-test";
  fs::create_directories(dir);
  const std::string path = (dir / name).string();
  std::ofstream(path) << text;
  return path;
}
}  // namespace

TEST_CASE("the version flag names latflow, LibTorch and CUDA", "[experiments][cli]") {
  const auto r = cli({"--version"});
  CHECK(r.code == 0);
  CHECK_THAT(r.out, Catch::Contains("latflow 0.") && Catch::Contains("LibTorch 2.") && Catch::Contains("CUDA"));
}

TEST_CASE("help and usage errors", "[experiments][cli]") {
  CHECK(cli({"--help"}).code == 0);
  CHECK(cli({"hmc", "--help"}).code == 0);
  const auto none = cli({});
  CHECK(none.code == 2);
  const auto bad = cli({"trian"});
  CHECK(bad.code == 2);
  CHECK_FALSE(bad.err.empty());
}

TEST_CASE("list prints every registry with descriptions", "[experiments][cli]") {
  const auto r = cli({"list"});
  CHECK(r.code == 0);
  for (const char* name : {"phi4", "free", "normal", "operator_cnf", "spectral", "rk4", "dopri5", "adjoint",
                           "reinforce", "gerdes-L32"})
    CHECK_THAT(r.out, Catch::Contains(name));
}

TEST_CASE("config show prints the resolved card, and bad cards exit 2 with one line", "[experiments][cli]") {
  const std::string card = write_card("good.toml", "[lattice]\nL = 6\n");
  const auto ok = cli({"config", "show", card, "--set", "train.lr=0.01", "solver.steps=9", "--seed", "7"});
  CHECK(ok.code == 0);
  CHECK_THAT(ok.out, Catch::Contains("L = 6") && Catch::Contains("lr = 0.01") && Catch::Contains("steps = 9") &&
                         Catch::Contains("seed = 7"));

  const std::string bad = write_card("bad.toml", "[lattice]\nL = 1\n");
  const auto r = cli({"config", "show", bad});
  CHECK(r.code == 2);
  CHECK_THAT(r.err, Catch::StartsWith("latflow: error: ") && Catch::Contains("'lattice.L' = 1 is out of range"));
  CHECK(std::count(r.err.begin(), r.err.end(), '\n') == 1);

  CHECK(cli({"config", "show", "/nonexistent/card.toml"}).code == 2);
  CHECK_THAT(cli({"config", "show", card, "--set", "lattice.foo=1"}).err, Catch::Contains("unknown key"));
}

TEST_CASE("asking for CUDA without a GPU is a clear error", "[experiments][cli]") {
  if (torch::cuda::is_available()) return;
  const std::string card = write_card("cuda.toml", "[lattice]\nL = 4\n[hmc]\ntrajectories = 2\n");
  const auto r = cli({"hmc", card, "--device", "cuda", "--out", (fs::temp_directory_path() / "latflow-cuda").string()});
  CHECK(r.code == 2);
  CHECK_THAT(r.err, Catch::Contains("no CUDA device is usable") && Catch::Contains("--device cpu"));
}

TEST_CASE("the built executable returns the same exit codes", "[experiments][cli]") {
  CHECK(std::system(LATFLOW_CLI_PATH " --version > /dev/null") == 0);
  CHECK(WEXITSTATUS(std::system(LATFLOW_CLI_PATH " config show /nonexistent.toml 2> /dev/null")) == 2);
}
