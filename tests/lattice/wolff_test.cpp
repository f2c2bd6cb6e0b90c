#include <torch/torch.h>

#include <catch2/catch.hpp>

#include <ATen/Parallel.h>

#include <cmath>

#include "core/error.hpp"
#include "lattice/ising_metropolis.hpp"
#include "lattice/wolff.hpp"
#include "ising_sampler_checks.hpp"

using namespace latflow;
using latflow::testing::f64;

TEST_CASE("Wolff reproduces Kaufman's energy and specific heat on 4x4 and 8x8", "[ising][wolff]") {
  torch::manual_seed(41);
  for (std::int64_t L : {4, 8})
    for (double beta : {0.3, 0.44}) {
      const auto action = IsingAction::from_beta(beta);
      WolffOptions o;
      o.chains = 32;
      o.thermalization = 100;
      o.sweeps = 2000;
      const auto r = run_wolff(action, Lattice::square(L), o);
      testing::check_energy_and_specific_heat(action, Lattice::square(L), r.samples, o.chains);
    }
}

TEST_CASE("Wolff samples the energy levels with their Boltzmann probabilities", "[ising][wolff]") {
  // One configuration per chain after 50 sweeps (tau_int is about one sweep): independent draws. 2x2 has
  // double bonds (each tried on its own), 3x5 is odd and not square. delta is the relative error of beta that
  // the test detects with probability >= 0.99 at significance 1e-4.
  torch::manual_seed(42);
  struct Case {
    Lattice lattice;
    double beta, delta;
  };
  for (const Case& c : {Case{{2, 2}, 0.44, 0.1}, Case{{4, 4}, 0.44, 0.05}, Case{{3, 5}, 0.3, 0.05}}) {
    WolffOptions o;
    o.chains = 4096;
    o.thermalization = 50;
    o.sweeps = 1;
    const auto r = run_wolff(IsingAction::from_beta(c.beta), c.lattice, o);
    const auto test = testing::energy_level_test(r.samples, c.beta, 1e-4, c.delta);
    INFO(c.lattice.str() << ", beta " << c.beta << ": chi2 " << test.chi2 << " on " << test.dof
                         << " dof, threshold " << test.threshold << ", power " << test.power);
    REQUIRE(test.power >= 0.99);
    CHECK(test.chi2 < test.threshold);
  }
}

TEST_CASE("Wolff's mean cluster size is N <m^2> (the improved estimator)", "[ising][wolff]") {
  // N <m^2> from enumeration of the 4x4 torus; the error of the mean cluster size from 8 independent runs.
  const double beta = 0.44;
  const auto levels = testing::ising_levels(4, 4);
  const auto p = testing::level_probabilities(levels, beta);
  long double m2 = 0;
  for (const auto& [b, level] : levels) m2 += p.at(b) * level.m2_sum / level.count;
  const double expected = static_cast<double>(m2) / 16;  // <M^2> / N = N <m^2>
  std::vector<double> runs;
  for (int seed = 0; seed < 8; ++seed) {
    torch::manual_seed(430 + seed);
    WolffOptions o;
    o.chains = 16;
    o.thermalization = 50;
    o.sweeps = 1000;
    runs.push_back(run_wolff(IsingAction::from_beta(beta), {4, 4}, o).mean_cluster_size);
  }
  double mean = 0, var = 0;
  for (double r : runs) mean += r / 8;
  for (double r : runs) var += (r - mean) * (r - mean) / 7;
  const double error = std::sqrt(var / 8);
  INFO("<|C|> = " << mean << " +- " << error << ", N <m^2> = " << expected);
  CHECK(std::abs(mean - expected) < 4.5 * error);
}

TEST_CASE("Wolff is reproducible for a seed and any thread count, chain-major, and reports its sweeps",
          "[ising][wolff]") {
  const auto action = IsingAction::from_beta(0.44);
  WolffOptions o;
  o.chains = 3;
  o.thermalization = 20;
  o.sweeps = 8;
  o.measure_every = 2;
  std::int64_t calls = 0;
  double last_fraction = 0;
  torch::manual_seed(44);
  const auto r = run_wolff(action, {6, 4}, o, [&](std::int64_t done, std::int64_t total, double fraction) {
    ++calls;
    CHECK(done == calls);
    CHECK(total == 28);
    last_fraction = fraction;
  });
  CHECK(calls == 28);
  REQUIRE(r.samples.sizes() == torch::IntArrayRef{3 * 4, 6, 4});
  CHECK(r.samples.dtype() == torch::kFloat64);
  CHECK((r.samples.abs() == 1).all().item<bool>());
  CHECK(last_fraction * 24 == Approx(r.mean_cluster_size));
  // The automatic count flips about N spins per sweep.
  CHECK(r.clusters_per_sweep >= 1);
  CHECK(r.mean_cluster_size >= 1);
  CHECK(r.mean_cluster_size <= 24);

  const int threads = at::get_num_threads();
  at::set_num_threads(1);
  torch::manual_seed(44);
  const auto serial = run_wolff(action, {6, 4}, o);
  at::set_num_threads(threads);
  CHECK(torch::equal(serial.samples, r.samples));
  // Chain c draws from its own stream: with a given count (the automatic one pools all chains), a run with
  // one chain is chain 0 of the run with three.
  WolffOptions three = o;
  three.clusters_per_sweep = 2;
  WolffOptions one = three;
  one.chains = 1;
  torch::manual_seed(44);
  const auto all = run_wolff(action, {6, 4}, three);
  torch::manual_seed(44);
  const auto single = run_wolff(action, {6, 4}, one);
  CHECK(torch::equal(single.samples, all.samples.narrow(0, 0, 4)));
  CHECK_FALSE(torch::equal(all.samples.narrow(0, 0, 4), all.samples.narrow(0, 4, 4)));
  torch::manual_seed(45);
  CHECK_FALSE(torch::equal(run_wolff(action, {6, 4}, o).samples, r.samples));
}

TEST_CASE("Wolff rejects the antiferromagnet and options it cannot run", "[ising][wolff]") {
  WolffOptions o;
  o.thermalization = 1;
  o.sweeps = 1;
  CHECK_THROWS_WITH(run_wolff(IsingAction::from_beta(0.4, -1), {4, 4}, o),
                    Catch::Contains("J > 0") && !Catch::Contains("\n"));
  const auto action = IsingAction::from_beta(0.4);
  auto throws = [&](auto change, Lattice lattice = {4, 4}) {
    WolffOptions bad = o;
    change(bad);
    CHECK_THROWS_AS(run_wolff(action, lattice, bad), UserError);
  };
  throws([](WolffOptions&) {}, {1, 4});
  throws([](WolffOptions& b) { b.chains = 0; });
  throws([](WolffOptions& b) { b.sweeps = 0; });
  throws([](WolffOptions& b) { b.measure_every = 2; });
  throws([](WolffOptions& b) { b.clusters_per_sweep = -1; });
  throws([](WolffOptions& b) { b.thermalization = 0; });  // the automatic count needs a thermalisation
  WolffOptions explicit_count = o;
  explicit_count.thermalization = 0;
  explicit_count.clusters_per_sweep = 3;
  CHECK(run_wolff(action, {4, 4}, explicit_count).clusters_per_sweep == 3);
}

TEST_CASE("critical slowing down: Metropolis decorrelates |m| far more slowly than Wolff at L = 16",
          "[ising][wolff][metropolis][.slow]") {
  // At beta = 0.44 ~ beta_c, tau_int grows like L^2.17 for local updates and like L^0.25 for clusters. Both in
  // sweeps (N proposals, or clusters flipping about N spins).
  const Lattice lattice = Lattice::square(16);
  const auto action = IsingAction::from_beta(0.44);
  torch::manual_seed(46);
  IsingMetropolisOptions m;
  m.chains = 8;
  m.thermalization = 2000;
  m.sweeps = 10000;
  const auto metropolis = run_ising_metropolis(action, lattice, m, torch::TensorOptions().dtype(torch::kFloat32));
  WolffOptions w;
  w.chains = 8;
  w.thermalization = 500;
  w.sweeps = 2000;
  const auto wolff = run_wolff(action, lattice, w);
  const auto tau_m = testing::chain_tau_int(action, metropolis.samples, m.chains, "abs_magnetization");
  const auto tau_w = testing::chain_tau_int(action, wolff.samples, w.chains, "abs_magnetization");
  const auto tau_me = testing::chain_tau_int(action, metropolis.samples, m.chains, "energy");
  const auto tau_we = testing::chain_tau_int(action, wolff.samples, w.chains, "energy");
  INFO("tau_int(|m|): Metropolis " << tau_m.tau_int << " +- " << tau_m.error << ", Wolff " << tau_w.tau_int
                                   << " +- " << tau_w.error << " sweeps (" << wolff.clusters_per_sweep
                                   << " clusters of mean size " << wolff.mean_cluster_size << "); tau_int(e): "
                                   << "Metropolis " << tau_me.tau_int << " +- " << tau_me.error << ", Wolff "
                                   << tau_we.tau_int << " +- " << tau_we.error);
  CHECK(tau_m.tau_int - 4 * tau_m.error > 5 * (tau_w.tau_int + 4 * tau_w.error));
  // The samples are right too: both agree with Kaufman's energy and specific heat.
  testing::check_energy_and_specific_heat(action, lattice, metropolis.samples, m.chains);
  testing::check_energy_and_specific_heat(action, lattice, wolff.samples, w.chains);
}
