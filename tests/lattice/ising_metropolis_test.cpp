#include <torch/torch.h>

#include <catch2/catch.hpp>

#include "core/error.hpp"
#include "lattice/ising_metropolis.hpp"
#include "ising_sampler_checks.hpp"

using namespace latflow;
using latflow::testing::f64;

TEST_CASE("Ising Metropolis reproduces Kaufman's energy and specific heat on 4x4 and 8x8", "[ising][metropolis]") {
  torch::manual_seed(31);
  for (std::int64_t L : {4, 8})
    for (double beta : {0.3, 0.44}) {
      const auto action = IsingAction::from_beta(beta);
      IsingMetropolisOptions o;
      o.chains = 32;
      o.thermalization = 300;
      o.sweeps = 2000;
      const auto r = run_ising_metropolis(action, Lattice::square(L), o, f64);
      testing::check_energy_and_specific_heat(action, Lattice::square(L), r.samples, o.chains);
    }
}

TEST_CASE("Ising Metropolis samples the energy levels with their Boltzmann probabilities", "[ising][metropolis]") {
  // One configuration per chain after 100 sweeps from a hot start (tau_int of |m| is under 2 sweeps on 4x4):
  // independent draws, as Pearson's test needs. delta is the relative error of beta that the test
  // detects with probability >= 0.99 at significance 1e-4. On 2x2 the plain Metropolis rule (free flips always
  // accepted) fails it by far: a quarter of the chains start in a closed class (lattice/ising_metropolis.hpp).
  // Chains x sites stay below LibTorch's parallel grain (32768 elements): threads only slow down updates this
  // small, badly so on a busy machine.
  torch::manual_seed(32);
  struct Case {
    Lattice lattice;
    double beta, delta;
    std::int64_t chains;
  };
  for (const Case& c : {Case{{2, 2}, 0.44, 0.1, 4096}, Case{{4, 4}, 0.44, 0.06, 2000}, Case{{4, 4}, 0.3, 0.08, 2000}}) {
    IsingMetropolisOptions o;
    o.chains = c.chains;
    o.thermalization = 100;
    o.sweeps = 1;
    const auto r = run_ising_metropolis(IsingAction::from_beta(c.beta), c.lattice, o, f64);
    const auto test = testing::energy_level_test(r.samples, c.beta, 1e-4, c.delta);
    INFO(c.lattice.str() << ", beta " << c.beta << ": chi2 " << test.chi2 << " on " << test.dof
                         << " dof, threshold " << test.threshold << ", power " << test.power);
    REQUIRE(test.power >= 0.99);
    CHECK(test.chi2 < test.threshold);
  }
}

TEST_CASE("Ising Metropolis stores chain-major spins, reports progress and rejects what it cannot run",
          "[ising][metropolis]") {
  torch::manual_seed(33);
  const auto action = IsingAction::from_beta(0.44);
  IsingMetropolisOptions o;
  o.chains = 3;
  o.thermalization = 4;
  o.sweeps = 6;
  o.measure_every = 2;
  std::int64_t calls = 0, last_done = 0;
  double last_acceptance = -1;
  const auto r = run_ising_metropolis(action, {4, 6}, o, torch::TensorOptions().dtype(torch::kFloat32),
                                      [&](std::int64_t done, std::int64_t total, double acceptance) {
                                        ++calls;
                                        last_done = done;
                                        CHECK(total == 10);
                                        last_acceptance = acceptance;
                                      });
  CHECK(calls == 10);
  CHECK(last_done == 10);
  CHECK(last_acceptance == Approx(r.acceptance));
  REQUIRE(r.samples.sizes() == torch::IntArrayRef{3 * 3, 4, 6});
  CHECK(r.samples.dtype() == torch::kFloat32);
  CHECK((r.samples.abs() == 1).all().item<bool>());
  CHECK(r.acceptance > 0);
  CHECK(r.acceptance < 1);
  auto throws = [&](auto change, Lattice lattice = {4, 4}) {
    IsingMetropolisOptions bad;
    bad.thermalization = 0;
    bad.sweeps = 1;
    change(bad);
    CHECK_THROWS_AS(run_ising_metropolis(action, lattice, bad, f64), UserError);
  };
  throws([](IsingMetropolisOptions&) {}, {3, 4});
  throws([](IsingMetropolisOptions&) {}, {4, 5});
  throws([](IsingMetropolisOptions& b) { b.chains = 0; });
  throws([](IsingMetropolisOptions& b) { b.sweeps = 0; });
  throws([](IsingMetropolisOptions& b) { b.thermalization = -1; });
  throws([](IsingMetropolisOptions& b) { b.measure_every = 2; });
  CHECK_THROWS_WITH(run_ising_metropolis(action, {4, 4}, o, torch::TensorOptions().dtype(torch::kLong)),
                    Catch::Contains("floating-point"));
}

TEST_CASE("Ising Metropolis runs on CUDA", "[ising][metropolis][cuda]") {
  if (!torch::cuda::is_available()) {
    WARN("no CUDA device: skipped");
    return;
  }
  torch::manual_seed(34);
  const auto action = IsingAction::from_beta(0.3);
  IsingMetropolisOptions o;
  o.chains = 64;
  o.thermalization = 200;
  o.sweeps = 1000;
  const auto cuda = torch::TensorOptions().dtype(torch::kFloat32).device(torch::kCUDA);
  const auto r = run_ising_metropolis(action, Lattice::square(8), o, cuda);
  CHECK(r.samples.device().is_cuda());
  testing::check_energy_and_specific_heat(action, Lattice::square(8), r.samples, o.chains);
}
