// The gauge theories through the command line as a user runs them: validation of their couplings and
// models, and the JSON names scripts rely on (`latflow eval --json`, `latflow hmc --json`).
#include <torch/torch.h>
#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>

#include <nlohmann/json.hpp>

#include "core/files.hpp"
#include "run_cli.hpp"

namespace fs = std::filesystem;
using latflow::testing::CliResult;
using latflow::testing::is_estimate;

namespace {

CliResult cli(std::vector<std::string> args) { return latflow::testing::run_cli(std::move(args)); }

fs::path scratch(const std::string& name) { return latflow::testing::scratch_dir("latflow-theories", name); }

std::string write(const fs::path& path, const std::string& text) { return latflow::testing::write_text(path, text); }

const char* kTinyGauge =
    "[lattice]\nL = 4\n[model]\ncoupling_layers = 2\nhidden_channels = 4\nhidden_layers = 1\nbins = 4\n"
    "[train]\nsteps = 2\nbatch = 16\neval_every = 0\neval_batch = 32\n[eval]\nn = 64\nbatch = 64\nbins = 8\n"
    "hmc = false\n[hmc]\nchains = 4\nthermalization = 5\ntrajectories = 10\n";


}  // namespace

TEST_CASE("gauge theories: couplings and models out of range are one-line errors naming the key",
          "[experiments][gauge]") {
  const fs::path dir = scratch("validation");
  const std::string card = write(dir / "s.toml", std::string(kTinyGauge) + "");
  const auto check = [&](std::vector<std::string> sets, const std::string& expected) {
    std::vector<std::string> args = {"config", "check", card, "--set", "lattice.theory=schwinger", "lattice.beta=2",
                                     "lattice.kappa=0.276"};
    args.insert(args.end(), sets.begin(), sets.end());
    latflow::testing::check_user_error(cli(args), expected);
  };
  check({"lattice.kappa=0"}, "'lattice.kappa' = 0.0 is out of range; allowed: a number > 0.0");
  check({"lattice.kappa=-0.1"}, "'lattice.kappa'");
  check({"lattice.beta=-1"}, "'lattice.beta' = -1.0 is out of range; allowed: a number >= 0.0");
  check({"lattice.fermion_bc=twisted"}, "'lattice.fermion_bc' = \"twisted\" is not allowed; allowed: 'antiperiodic', 'periodic'");
  check({"lattice.L=6"}, "lattice.L and lattice.T multiples of 4");
  const std::string scalar = write(dir / "scalar.toml", "[model]\ntype = \"coupling\"\nprior = \"normal\"\n");
  const CliResult mismatch = cli({"config", "check", scalar, "--set", "lattice.theory=u1", "lattice.beta=1"});
  CHECK(mismatch.code == 2);
  CHECK_THAT(mismatch.err, Catch::Contains("samples real configurations [8, 8], but lattice.theory \"u1\" has "
                                           "angle configurations [2, 8, 8]") &&
                               Catch::Contains("model.type = \"gauge_coupling\""));
  const CliResult missing = cli({"config", "check", card, "--set", "lattice.theory=schwinger", "lattice.beta=2"});
  CHECK(missing.code == 2);
  CHECK_THAT(missing.err, Catch::Contains("'lattice.kappa' is required with lattice.theory = \"schwinger\""));
  const CliResult phi4_key = cli({"config", "check", card, "--set", "lattice.theory=u1", "lattice.beta=1", "lattice.m2=1"});
  CHECK(phi4_key.code == 2);
  CHECK_THAT(phi4_key.err, Catch::Contains("'lattice.m2' is used only with lattice.convention"));
}

TEST_CASE("gauge theories: eval, hmc and sample print the observables under the names scripts use",
          "[experiments][gauge]") {
  for (const std::string theory : {"u1", "schwinger"}) {
    INFO(theory);
    const fs::path dir = scratch("names-" + theory);
    const std::string card = write(dir / "g.toml", kTinyGauge);
    std::vector<std::string> sets = {"lattice.theory=" + theory, "lattice.beta=1.5"};
    if (theory == "schwinger") sets.push_back("lattice.kappa=0.2");
    std::vector<std::string> train = {"train", card, "--out", (dir / "run").string(), "--set"};
    train.insert(train.end(), sets.begin(), sets.end());
    const CliResult t = cli(train);
    INFO(t.err);
    REQUIRE(t.code == 0);

    const CliResult e = cli({"eval", (dir / "run").string(), "--json"});
    INFO(e.err);
    REQUIRE(e.code == 0);
    const auto j = nlohmann::json::parse(e.out);
    for (const char* key : {"plaquette", "topological_susceptibility", "topological_charge", "wilson_loop_2x1"})
      CHECK(is_estimate(j["observables"][key]));
    CHECK(is_estimate(j["tau_int"]["topological_charge"]));
    CHECK(j["chain_observable"] == "topological_charge");
    if (theory == "schwinger") {
      CHECK(is_estimate(j["observables"]["chiral_condensate"]));
      CHECK(j["observables"]["pion_correlator"].size() == 4);
      CHECK_FALSE(j.contains("exact"));
    } else {
      CHECK(j["exact"]["plaquette"].is_number());
      CHECK(j["exact"]["topological_susceptibility"].is_number());
    }

    std::vector<std::string> hmc = {"hmc", card, "--json", "--out", (dir / "hmc").string(), "--set"};
    hmc.insert(hmc.end(), sets.begin(), sets.end());
    const CliResult h = cli(hmc);
    INFO(h.err);
    REQUIRE(h.code == 0);
    const auto hj = nlohmann::json::parse(h.out);
    CHECK(is_estimate(hj["observables"]["plaquette"]));
    CHECK(is_estimate(hj["observables"]["topological_susceptibility"]));
    CHECK(is_estimate(hj["tau_int"]["topological_charge"]));
    CHECK(is_estimate(hj["tau_int"]["plaquette"]));
    CHECK(hj["cost_per_effective_sample"]["observable"] == "topological_charge");
    if (theory == "schwinger") CHECK(is_estimate(hj["observables"]["chiral_condensate"]));

    const CliResult s = cli({"sample", (dir / "run").string(), "--n", "3"});
    REQUIRE(s.code == 0);
    CHECK_THAT(s.out, Catch::Contains("a[\"theta\"].shape"));
    // The .npy header records the link angles of each configuration as (2, T, L).
    std::ifstream npy(dir / "run" / "samples.npy", std::ios::binary);
    std::string header(256, '\0');
    npy.read(header.data(), 256);
    CHECK_THAT(header, Catch::Contains("('theta', '<f8', (2,4,4,))"));
  }
}
