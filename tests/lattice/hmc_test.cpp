#include <torch/torch.h>

#include <catch2/catch.hpp>

#include <cmath>

#include "core/error.hpp"
#include "lattice/hmc.hpp"
#include "lattice/metropolis.hpp"
#include "lattice/phi4_action.hpp"

using namespace latflow;

namespace {

const auto f64 = torch::TensorOptions().dtype(torch::kFloat64);

struct Estimate {
  double value, error;
};

// The mean of an observable over independent chains, from chain-major samples [C*M]: the chain means are
// independent and identically distributed, so their spread gives the error whatever the autocorrelation
// within a chain.
Estimate chain_mean(const torch::Tensor& values, std::int64_t chains) {
  const auto per_chain = values.to(torch::kFloat64).view({chains, -1}).mean(1);
  return {per_chain.mean().item<double>(), per_chain.std().item<double>() / std::sqrt(double(chains))};
}

torch::Tensor magnetization(const torch::Tensor& phi) { return phi.mean({1, 2}); }

void check_agree(const char* what, Estimate a, Estimate b, double sigmas = 4) {
  const double combined = std::hypot(a.error, b.error);
  INFO(what << ": " << a.value << " +- " << a.error << " vs " << b.value << " +- " << b.error);
  CHECK(std::abs(a.value - b.value) < sigmas * combined);
}

void check_exact(const char* what, Estimate a, double exact, double sigmas = 4) {
  INFO(what << ": " << a.value << " +- " << a.error << " vs exact " << exact);
  CHECK(std::abs(a.value - exact) < sigmas * a.error);
}

// <|M|> and <M^2> of HMC and Metropolis at the same point agree within their errors.
void compare_samplers(const Phi4Action& action, const Lattice& lattice, const HMCOptions& hmc_options,
                      const MetropolisOptions& metropolis_options) {
  const auto hmc = run_hmc(action, lattice, hmc_options, f64);
  const auto metropolis = run_metropolis(action, lattice, metropolis_options, f64);
  const auto m_hmc = magnetization(hmc.samples), m_metropolis = magnetization(metropolis.samples);
  check_agree("<|M|>", chain_mean(m_hmc.abs(), hmc_options.chains),
              chain_mean(m_metropolis.abs(), metropolis_options.chains));
  check_agree("<M^2>", chain_mean(m_hmc.square(), hmc_options.chains),
              chain_mean(m_metropolis.square(), metropolis_options.chains));
}

}  // namespace

TEST_CASE("HMC integrators conserve H to second order in the step size", "[lattice][hmc][order]") {
  torch::manual_seed(20);
  const auto action = Phi4Action::from_canonical(-4, 6.975);
  const auto phi0 = 0.5 * torch::randn({8, 4, 4}, f64), pi0 = torch::randn({8, 4, 4}, f64);
  const double tau = 0.5;
  for (auto integrator : {MDIntegrator::leapfrog, MDIntegrator::omelyan}) {
    std::vector<double> errors;
    for (std::int64_t steps : {20, 40, 80}) {
      auto phi = phi0.clone(), pi = pi0.clone();
      integrate_md(action, phi, pi, tau / steps, steps, integrator);
      errors.push_back((hamiltonian(action, phi, pi) - hamiltonian(action, phi0, pi0)).abs().sum().item<double>());
    }
    // Halving eps divides |Delta H| by 2^2 up to O(eps^2) corrections.
    INFO("integrator " << int(integrator) << ": |dH| = " << errors[0] << ", " << errors[1] << ", " << errors[2]);
    CHECK(errors[0] / errors[1] == Approx(4).margin(0.3));
    CHECK(errors[1] / errors[2] == Approx(4).margin(0.15));
  }
}

TEST_CASE("HMC integrators are reversible", "[lattice][hmc]") {
  torch::manual_seed(21);
  const auto action = Phi4Action::from_canonical(-4, 6.008);
  const auto phi0 = torch::randn({4, 3, 5}, f64), pi0 = torch::randn({4, 3, 5}, f64);
  for (auto integrator : {MDIntegrator::leapfrog, MDIntegrator::omelyan}) {
    auto phi = phi0.clone(), pi = pi0.clone();
    const auto forces = integrate_md(action, phi, pi, 0.04, 25, integrator);
    CHECK(forces == (integrator == MDIntegrator::leapfrog ? 26 : 51));
    CHECK((phi - phi0).abs().max().item<double>() > 0.1);
    pi.neg_();
    integrate_md(action, phi, pi, 0.04, 25, integrator);
    pi.neg_();
    CHECK((phi - phi0).abs().max().item<double>() < 1e-12);
    CHECK((pi - pi0).abs().max().item<double>() < 1e-12);
  }
}

TEST_CASE("HMC reproduces <M^2> = 1/(2 V m2) of the free theory", "[lattice][hmc]") {
  // With S = phi^T A phi and A 1 = m2 1: <M^2> = 1^T (2A)^{-1} 1 / V^2 = 1 / (2 V m2).
  torch::manual_seed(22);
  const double m2 = 0.5;
  const Lattice lattice{4, 4};
  HMCOptions options;
  options.chains = 16;
  options.thermalization = 100;
  options.trajectories = 300;
  for (const char* integrator : {"omelyan", "leapfrog"}) {
    options.integrator = integrator;
    const auto result = run_hmc(Phi4Action::from_canonical(m2, 0), lattice, options, f64);
    REQUIRE(result.samples.sizes() == torch::IntArrayRef{16 * 300, 4, 4});
    const auto m = magnetization(result.samples);
    check_exact("<M^2>", chain_mean(m.square(), options.chains), 1 / (2 * 16 * m2));
    check_exact("<M>", chain_mean(m, options.chains), 0);
    // The frozen step fits the trajectory exactly and the adaptation reached its target from above: the
    // step actually used, tau / ceil(tau / eps), is never larger than the adapted eps.
    CHECK(result.step_size * result.steps_per_trajectory == Approx(1.0).epsilon(1e-12));
    CHECK(result.acceptance > options.target_acceptance - 0.1);
  }
}

TEST_CASE("HMC reproduces the exact moments of the one-site double well", "[lattice][hmc]") {
  // On a 1x1 lattice the gradient term vanishes, S = m2 phi^2 + lambda phi^4, and <phi^k> is a
  // one-dimensional integral: Simpson's rule on [-8, 8], where exp(-S) < exp(-2000) at the ends.
  const double m2 = -1, lambda = 0.5;
  const int n = 20000;
  const double a = -8, h = 16.0 / n;
  double z = 0, phi2 = 0, phi4 = 0;
  for (int i = 0; i <= n; ++i) {
    const double x = a + i * h, w = (i == 0 || i == n) ? 1 : (i % 2 ? 4 : 2);
    const double p = w * std::exp(-(m2 * x * x + lambda * x * x * x * x));
    z += p;
    phi2 += p * x * x;
    phi4 += p * x * x * x * x;
  }
  torch::manual_seed(27);
  HMCOptions options;
  options.thermalization = 100;
  options.trajectories = 500;
  const auto result = run_hmc(Phi4Action::from_canonical(m2, lambda), {1, 1}, options, f64);
  const auto phi = result.samples.flatten();
  check_exact("<phi^2>", chain_mean(phi.pow(2), options.chains), phi2 / z);
  check_exact("<phi^4>", chain_mean(phi.pow(4), options.chains), phi4 / z);
  // Both wells are visited: <phi> = 0 by symmetry.
  check_exact("<phi>", chain_mean(phi, options.chains), 0);
}

TEST_CASE("Metropolis reproduces <M^2> = 1/(2 V m2) of the free theory", "[lattice][metropolis]") {
  torch::manual_seed(23);
  const double m2 = 0.5;
  MetropolisOptions options;
  options.chains = 16;
  options.thermalization = 100;
  options.sweeps = 600;
  const auto result = run_metropolis(Phi4Action::from_canonical(m2, 0), {4, 4}, options, f64);
  REQUIRE(result.samples.sizes() == torch::IntArrayRef{16 * 600, 4, 4});
  const auto m = magnetization(result.samples);
  check_exact("<M^2>", chain_mean(m.square(), options.chains), 1 / (2 * 16 * m2));
  CHECK(result.acceptance > 0.2);
  CHECK(result.acceptance < 0.9);
}

TEST_CASE("HMC and Metropolis agree near the critical point, L = 4", "[lattice][hmc][metropolis]") {
  torch::manual_seed(24);
  HMCOptions hmc;
  hmc.chains = 16;
  hmc.thermalization = 200;
  hmc.trajectories = 800;
  MetropolisOptions metropolis;
  metropolis.chains = 16;
  metropolis.thermalization = 200;
  metropolis.sweeps = 1500;
  compare_samplers(Phi4Action::from_canonical(-4, 6.975), {4, 4}, hmc, metropolis);
}

TEST_CASE("HMC and Metropolis agree at Albergo's L = 8 point", "[lattice][hmc][metropolis][.slow]") {
  torch::manual_seed(25);
  HMCOptions hmc;
  hmc.chains = 32;
  hmc.thermalization = 500;
  hmc.trajectories = 4000;
  MetropolisOptions metropolis;
  metropolis.chains = 32;
  metropolis.thermalization = 1000;
  metropolis.sweeps = 10000;
  compare_samplers(Phi4Action::from_canonical(-4, 6.008), Lattice::square(8), hmc, metropolis);
}

TEST_CASE("HMC rejects diverging trajectories and stores samples chain-major", "[lattice][hmc]") {
  // One step of size 1e4 overflows float32 (inf or NaN in H): every proposal must be rejected, so each
  // chain stays at its random start, and consecutive blocks of the samples are single chains.
  torch::manual_seed(26);
  HMCOptions options;
  options.chains = 3;
  options.thermalization = 0;
  options.trajectories = 8;
  options.measure_every = 2;
  options.trajectory_length = 1e4;
  options.initial_step_size = 1e4;
  std::int64_t calls = 0, last_done = 0, last_total = 0;
  const auto result =
      run_hmc(Phi4Action::from_canonical(-4, 6.975), {4, 4}, options, torch::TensorOptions().dtype(torch::kFloat32),
              [&](std::int64_t done, std::int64_t total, double) {
                ++calls;
                last_done = done;
                last_total = total;
              });
  CHECK(calls == 8);
  CHECK(last_done == 8);
  CHECK(last_total == 8);
  CHECK(result.acceptance == 0);
  CHECK(result.steps_per_trajectory == 1);
  CHECK(result.force_evaluations == 8 * (2 * 1 + 1));  // Omelyan: 2n+1 forces for n steps
  REQUIRE(result.samples.sizes() == torch::IntArrayRef{3 * 4, 4, 4});
  CHECK(result.samples.dtype() == torch::kFloat32);
  CHECK(torch::isfinite(result.samples).all().item<bool>());
  const auto chains = result.samples.view({3, 4, 16});
  CHECK(torch::equal(chains, chains.select(1, 0).unsqueeze(1).expand({3, 4, 16})));
  CHECK_FALSE(torch::equal(chains[0][0], chains[1][0]));
}

TEST_CASE("samplers reject invalid options", "[lattice][hmc][metropolis]") {
  const auto action = Phi4Action::from_canonical(-4, 6.975);
  auto hmc_throws = [&](auto change) {
    HMCOptions o;
    o.thermalization = 0;
    o.trajectories = 1;
    change(o);
    CHECK_THROWS_AS(run_hmc(action, {4, 4}, o, f64), UserError);
  };
  hmc_throws([](HMCOptions& o) { o.chains = 0; });
  hmc_throws([](HMCOptions& o) { o.thermalization = -1; });
  hmc_throws([](HMCOptions& o) { o.trajectories = 0; });
  hmc_throws([](HMCOptions& o) { o.measure_every = 2; });
  hmc_throws([](HMCOptions& o) { o.trajectory_length = 0; });
  hmc_throws([](HMCOptions& o) { o.initial_step_size = std::nan(""); });
  hmc_throws([](HMCOptions& o) { o.target_acceptance = 1; });
  hmc_throws([](HMCOptions& o) { o.integrator = "omelyan4"; });
  CHECK_THROWS_WITH(md_integrator("leapfrg"), Catch::Contains("did you mean 'leapfrog'"));

  auto metropolis_throws = [&](auto change, Lattice lattice = {4, 4}) {
    MetropolisOptions o;
    o.thermalization = 0;
    o.sweeps = 1;
    change(o);
    CHECK_THROWS_AS(run_metropolis(action, lattice, o, f64), UserError);
  };
  metropolis_throws([](MetropolisOptions&) {}, {3, 4});
  metropolis_throws([](MetropolisOptions&) {}, {4, 5});
  metropolis_throws([](MetropolisOptions& o) { o.chains = 0; });
  metropolis_throws([](MetropolisOptions& o) { o.sweeps = 0; });
  metropolis_throws([](MetropolisOptions& o) { o.proposal_width = -1; });
  metropolis_throws([](MetropolisOptions& o) { o.measure_every = 0; });
}

TEST_CASE("HMC and Metropolis run on CUDA", "[lattice][hmc][metropolis][cuda]") {
  if (!torch::cuda::is_available()) {
    WARN("no CUDA device: skipped");
    return;
  }
  const auto cuda = torch::TensorOptions().dtype(torch::kFloat32).device(torch::kCUDA);
  const auto action = Phi4Action::from_canonical(-4, 6.975);
  HMCOptions hmc;
  hmc.chains = 4;
  hmc.thermalization = 10;
  hmc.trajectories = 10;
  const auto h = run_hmc(action, {4, 6}, hmc, cuda);
  CHECK(h.samples.device().is_cuda());
  CHECK(h.acceptance > 0);
  MetropolisOptions metropolis;
  metropolis.chains = 4;
  metropolis.thermalization = 10;
  metropolis.sweeps = 10;
  const auto m = run_metropolis(action, {4, 6}, metropolis, cuda);
  CHECK(m.samples.device().is_cuda());
  CHECK(torch::isfinite(m.samples).all().item<bool>());
}
