// The Ising model through the command line as a user runs it: bad input as one-line errors, the JSON names
// scripts rely on (`latflow eval --json`: free_energy, ess, acceptance, observables; `latflow mcmc --json`:
// the Wolff and Metropolis chains), and the transfer of a HAN to twice the lattice.
#include <torch/torch.h>
#include <catch2/catch.hpp>

#include <filesystem>

#include <nlohmann/json.hpp>

#include "run_cli.hpp"

namespace fs = std::filesystem;
using latflow::testing::CliResult;
using latflow::testing::is_estimate;

namespace {

CliResult cli(std::vector<std::string> args) { return latflow::testing::run_cli(std::move(args)); }

fs::path scratch(const std::string& name) { return latflow::testing::scratch_dir("latflow-ising", name); }

const char* kTinyIsing =
    "[lattice]\ntheory = \"ising\"\nbeta = 0.3\nL = 4\n[model]\nmade_depth = 1\n"
    "[train]\nsteps = 20\nbatch = 64\nlr = 0.01\neval_every = 0\neval_batch = 64\n[eval]\nn = 512\nbatch = 256\n"
    "bins = 16\nhmc = false\n[reference]\nchains = 4\nthermalization = 20\nsweeps = 200\n";


}  // namespace

TEST_CASE("ising: bad couplings, lattices and models are one-line errors saying what is allowed",
          "[experiments][ising]") {
  const fs::path dir = scratch("validation");
  const std::string card = latflow::testing::write_text(dir / "i.toml", kTinyIsing);
  const auto check = [&](std::vector<std::string> sets, const std::string& expected) {
    std::vector<std::string> args = {"config", "check", card, "--set"};
    args.insert(args.end(), sets.begin(), sets.end());
    latflow::testing::check_user_error(cli(args), expected);
  };
  check({"lattice.L=12"}, "power of two");
  check({"lattice.T=8"}, "square lattice");
  check({"lattice.beta=0"}, "beta");
  check({"train.estimator=reparam"}, "use train.estimator = \"reinforce\"");
  check({"model.symmetries=z4"}, "'model.symmetries' = \"z4\" is not allowed");
  check({"train.anneal=1"}, "'train.anneal'");
  // Models of another sample space, both ways round.
  const std::string bare = latflow::testing::write_text(dir / "bare.toml", "[lattice]\nL = 4\n");
  const auto mismatch = [&](std::vector<std::string> sets, const std::string& expected) {
    std::vector<std::string> args = {"config", "check", bare, "--set"};
    args.insert(args.end(), sets.begin(), sets.end());
    const CliResult r = cli(args);
    INFO(r.err);
    CHECK(r.code == 2);
    CHECK_THAT(r.err, Catch::Contains(expected));
  };
  mismatch({"lattice.theory=ising", "lattice.beta=0.4", "model.type=coupling", "model.prior=normal"},
           "for Ising spins use model.type = \"han\" or \"van\"");
  mismatch({"model.type=van"}, "use a scalar-field model");
  CHECK(cli({"config", "check", card}).code == 0);
}

TEST_CASE("ising: train, eval and mcmc print the free energy and observables under the names scripts use",
          "[experiments][ising]") {
  const fs::path dir = scratch("names");
  const std::string card = latflow::testing::write_text(dir / "i.toml", kTinyIsing);
  for (const std::string type : {"han", "van"}) {
    INFO(type);
    const std::string run = (dir / ("run-" + type)).string();
    const CliResult t = cli({"train", card, "--out", run, "--set", "model.type=" + type, "train.anneal=0.9"});
    INFO(t.err);
    REQUIRE(t.code == 0);
    const CliResult e = cli({"eval", run, "--json"});
    INFO(e.err);
    REQUIRE(e.code == 0);
    const auto j = nlohmann::json::parse(e.out);
    CHECK(is_estimate(j["free_energy"]["variational"]));
    CHECK(is_estimate(j["free_energy"]["importance"]));
    const double exact = j["free_energy"]["exact"].get<double>();
    // f = -ln Z / (beta N) with Kaufman's ln Z, and the variational value is an upper bound of it.
    CHECK(exact == Approx(-j["exact"]["log_z"].get<double>() / (0.3 * 16)).epsilon(1e-12));
    CHECK(j["free_energy"]["variational"]["value"].get<double>() >
          exact - 4 * j["free_energy"]["variational"]["error"].get<double>());
    CHECK(j["ess"].is_number());
    CHECK(j["acceptance"].is_number());
    for (const char* key : {"energy", "abs_magnetization", "magnetization", "susceptibility", "binder", "specific_heat"})
      CHECK(is_estimate(j["observables"][key]));
    CHECK(is_estimate(j["tau_int"]["energy"]));
    CHECK(is_estimate(j["tau_int"]["abs_magnetization"]));
    CHECK(j["solver_error"]["applies"] == false);
    const CliResult s = cli({"sample", run, "--n", "3"});
    REQUIRE(s.code == 0);
  }

  const CliResult m = cli({"mcmc", card, "--json", "--out", (dir / "mcmc").string()});
  INFO(m.err);
  REQUIRE(m.code == 0);
  const auto mj = nlohmann::json::parse(m.out);
  for (const char* chain : {"wolff", "metropolis"}) {
    INFO(chain);
    CHECK(is_estimate(mj[chain]["observables"]["energy"]));
    CHECK(is_estimate(mj[chain]["tau_int"]["energy"]));
    CHECK(is_estimate(mj[chain]["tau_int"]["abs_magnetization"]));
    CHECK(mj[chain]["cost_per_effective_sample"]["seconds"].is_number());
    CHECK(mj[chain]["exact"]["energy"].is_number());
  }
  CHECK(mj["wolff"]["mean_cluster_size"].get<double>() > 1);
  CHECK(mj["metropolis"]["acceptance"].get<double>() > 0);
}

TEST_CASE("ising: a HAN trained at L initialises the hierarchy at 2L through --init-from",
          "[experiments][ising]") {
  const fs::path dir = scratch("transfer");
  const std::string card = latflow::testing::write_text(dir / "i.toml", kTinyIsing);
  const std::string small = (dir / "L4").string(), big = (dir / "L8").string();
  REQUIRE(cli({"train", card, "--out", small}).code == 0);
  const CliResult t = cli({"train", card, "--out", big, "--init-from", small, "--set", "lattice.L=8", "train.steps=5"});
  INFO(t.err);
  REQUIRE(t.code == 0);
  const CliResult e = cli({"eval", big, "--json"});
  INFO(e.err);
  REQUIRE(e.code == 0);
  CHECK(nlohmann::json::parse(e.out)["free_energy"]["exact"].is_number());
  // An untrained model evaluated on 64 samples has fewer than 100 effective ones: said, not hidden.
  const std::string fresh = (dir / "fresh").string();
  REQUIRE(cli({"train", card, "--out", fresh, "--set", "train.steps=0"}).code == 0);
  const CliResult few = cli({"eval", fresh, "--n", "64"});
  CHECK(few.code == 0);
  CHECK_THAT(few.err, Catch::Contains("effective samples (ESS/N x N)") && Catch::Contains("unreliable"));
    // A VAN's weights are tied to its lattice: it cannot be evaluated on another one.
  REQUIRE(cli({"train", card, "--out", (dir / "van").string(), "--set", "model.type=van"}).code == 0);
  const CliResult moved = cli({"eval", (dir / "van").string(), "--set", "lattice.L=8"});
  CHECK(moved.code == 2);
  CHECK_THAT(moved.err, Catch::Contains("VAN"));
}
