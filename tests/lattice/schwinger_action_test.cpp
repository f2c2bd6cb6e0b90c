#include <torch/torch.h>

#include <catch2/catch.hpp>

#include <cmath>
#include <limits>
#include <vector>

#include "core/error.hpp"
#include "lattice/hmc.hpp"
#include "lattice/schwinger_action.hpp"
#include "lattice/statistics.hpp"
#include "lattice/u1_gauge_action.hpp"
#include "lattice/u1_gauge_field.hpp"
#include "lattice/wilson_dirac.hpp"

#include "lattice_testing.hpp"

using namespace latflow;

using testing::eps;
using testing::f64;
using testing::max_abs;
using testing::pi;

namespace {

// Backward-error bound of an LU of D, N eps cond(D), as a relative error.
double lu_tolerance(const torch::Tensor& theta, double kappa) {
  const auto d = u1::wilson_dirac(theta, kappa);
  return d.size(-1) * eps * torch::linalg_cond(d).max().item<double>();
}

std::vector<double> to_vector(const torch::Tensor& t) {
  const auto c = t.to(torch::kFloat64).contiguous();
  return {c.data_ptr<double>(), c.data_ptr<double>() + c.numel()};
}

}  // namespace

TEST_CASE("Schwinger action is S_g - 2 log|det D| of the full Wilson-Dirac matrix", "[schwinger]") {
  torch::manual_seed(90);
  const double beta = 2.0, kappa = 0.276;
  const SchwingerAction action(beta, kappa);
  for (auto [T, L] : {std::pair<int64_t, int64_t>{4, 4}, {2, 6}, {6, 4}}) {
    const auto theta = 0.8 * torch::randn({3, 2, T, L}, f64);
    const auto full = U1GaugeAction(beta).action(theta) -
                      2 * std::get<1>(torch::linalg_slogdet(u1::wilson_dirac(theta, kappa)));
    const auto s = action.action(theta);
    REQUIRE(s.sizes() == torch::IntArrayRef{3});
    INFO(T << "x" << L);
    // Two LU factorisations (of D and of M): 2 log|det| agrees to twice their error bound.
    CHECK(max_abs(s - full) <= 4 * lu_tolerance(theta, kappa) + 8 * T * L * beta * eps);
  }
}

TEST_CASE("Schwinger force equals autograd and finite differences of the action", "[schwinger]") {
  torch::manual_seed(91);
  const double kappa = 0.276;
  const SchwingerAction action(2.0, kappa);
  for (auto [T, L] : {std::pair<int64_t, int64_t>{4, 4}, {2, 4}, {6, 2}}) {
    const auto theta = u1::haar_links(2, {T, L}, f64).requires_grad_(true);
    const auto grad = torch::autograd::grad({action.action(theta).sum()}, {theta})[0];
    const auto force = action.force(theta.detach());
    REQUIRE(force.sizes() == theta.sizes());
    INFO(T << "x" << L);
    CHECK(max_abs(force - grad) <= 2 * lu_tolerance(theta.detach(), kappa) * max_abs(grad));
  }
  const int64_t T = 4, L = 4, n = 2 * T * L;
  const double h = 1e-4;
  const auto theta = u1::haar_links(1, {T, L}, f64);
  const auto shift = h * torch::eye(n, f64).view({n, 2, T, L});
  const auto fd = ((action.action(theta + shift) - action.action(theta - shift)) / (2 * h)).view({1, 2, T, L});
  // Truncation h^2 |S'''| / 6 ~ 1e-8 * O(beta + 2 kappa^3 4^3) and rounding eps |S| / h ~ 1e-11: below
  // 1e-7 of forces of order one; a wrong term would be O(1).
  CHECK(max_abs(action.force(theta) - fd) <= 1e-7 * max_abs(fd));
}

TEST_CASE("Schwinger action and force are gauge invariant and covariant", "[schwinger]") {
  torch::manual_seed(92);
  const SchwingerAction action(2.0, 0.276);
  const auto theta = u1::haar_links(4, {4, 6}, f64);
  const auto transformed = u1::gauge_transform(theta, 2 * pi * torch::rand({4, 4, 6}, f64));
  const double tol = 4 * lu_tolerance(theta, 0.276);
  CHECK(max_abs(action.action(transformed) - action.action(theta)) <= tol + 16 * 24 * 2 * 5 * pi * eps);
  CHECK(max_abs(action.force(transformed) - action.force(theta)) <= tol * max_abs(action.force(theta)));
}

TEST_CASE("HMC with the Schwinger force conserves H to second order and is reversible", "[schwinger]") {
  torch::manual_seed(93);
  const SchwingerAction action(2.0, 0.276);
  const auto theta0 = 0.5 * torch::randn({4, 2, 4, 4}, f64), pi0 = torch::randn({4, 2, 4, 4}, f64);
  std::vector<double> errors;
  for (int64_t steps : {10, 20, 40}) {
    auto theta = theta0.clone(), momentum = pi0.clone();
    integrate_md(action, theta, momentum, 0.5 / steps, steps, MDIntegrator::leapfrog);
    const auto delta = hamiltonian(action, theta, momentum) - hamiltonian(action, theta0, pi0);
    errors.push_back(delta.abs().sum().item<double>());
  }
  INFO("|dH| = " << errors[0] << ", " << errors[1] << ", " << errors[2]);
  // A force that is not the gradient of S leaves an O(eps^0) or O(eps) error instead of O(eps^2).
  CHECK(errors[0] / errors[1] == Approx(4).margin(0.3));
  CHECK(errors[1] / errors[2] == Approx(4).margin(0.15));
  auto theta = theta0.clone(), momentum = pi0.clone();
  integrate_md(action, theta, momentum, 0.05, 10, MDIntegrator::omelyan);
  momentum.neg_();
  integrate_md(action, theta, momentum, 0.05, 10, MDIntegrator::omelyan);
  CHECK(max_abs(theta - theta0) < 1e-11);
}

TEST_CASE("Schwinger action reports its name, couplings and shape, and rejects bad input", "[schwinger]") {
  const SchwingerAction a(2.0, 0.276);
  CHECK(a.name() == "schwinger");
  CHECK(a.beta() == 2.0);
  CHECK(a.kappa() == 0.276);
  CHECK(a.couplings() == nlohmann::json{{"beta", 2.0}, {"kappa", 0.276}, {"fermion_bc", "antiperiodic"}});
  CHECK(a.config_shape({4, 6}) == std::vector<int64_t>{2, 4, 6});
  CHECK_THROWS_WITH(SchwingerAction(2.0, 0.0), Catch::Contains("kappa = 0") && Catch::Contains("> 0") &&
                                                   Catch::Contains("0.276") && !Catch::Contains("\n"));
  CHECK_THROWS_AS(SchwingerAction(2.0, -0.1), UserError);
  CHECK_THROWS_AS(SchwingerAction(2.0, std::nan("")), UserError);
  CHECK_THROWS_WITH(SchwingerAction(-1.0, 0.2), Catch::Contains("schwinger: beta = -1"));
  CHECK_THROWS_WITH(a.action(torch::zeros({1, 2, 3, 4}, f64)), Catch::Contains("needs even T and L"));
  CHECK_THROWS_WITH(a.force(torch::zeros({1, 2, 4, 5}, f64)), Catch::Contains("needs even T and L"));
}

TEST_CASE("Schwinger HMC agrees with the pure-gauge ensemble reweighted by |det D|^2", "[schwinger][.slow]") {
  // Two independent estimates of <O> in the theory with fermions at L = 4: HMC with the fermion force, and
  // pure-gauge HMC at the same beta with weights |det D|^2 = exp(2 log|det D|). The fermions raise the
  // plaquette far beyond the errors (0.70 without them), so agreement tests the fermion measure.
  const double beta = 2.0, kappa = 0.276;
  const Lattice lattice{4, 4};
  torch::manual_seed(94);
  HMCOptions gauge_options;
  gauge_options.chains = 32;
  gauge_options.thermalization = 200;
  gauge_options.trajectories = 2000;
  const auto gauge = run_hmc(U1GaugeAction(beta), lattice, gauge_options, f64).samples;
  // Measured in chunks: a batch of 64000 dense operators would need a gigabyte.
  auto measure = [&](const torch::Tensor& samples, auto observable) {
    std::vector<torch::Tensor> parts;
    for (const auto& chunk : samples.split(4000)) parts.push_back(observable(chunk));
    return torch::cat(parts);
  };
  const auto log_w =
      to_vector(measure(gauge, [&](const torch::Tensor& c) { return 2 * u1::log_abs_det_wilson(c, kappa); }));
  HMCOptions options;
  options.chains = 16;
  options.thermalization = 200;
  options.trajectories = 1000;
  const auto result = run_hmc(SchwingerAction(beta, kappa), lattice, options, f64);
  CHECK(result.acceptance > 0.6);

  auto compare = [&](const char* what, const torch::Tensor& direct, const torch::Tensor& reweighted) {
    // Chain means of the dynamical ensemble are independent; the reweighted mean has a jackknife error over
    // 100 contiguous bins of 640 trajectories, far longer than the autocorrelation.
    const auto per_chain = direct.view({options.chains, -1}).mean(1);
    const double mean = per_chain.mean().item<double>();
    const double error = per_chain.std().item<double>() / std::sqrt(double(options.chains));
    const auto rw = stats::mean(to_vector(reweighted), log_w, 100);
    const double combined = std::hypot(error, rw.error);
    INFO(what << ": HMC " << mean << " +- " << error << ", reweighted " << rw.value << " +- " << rw.error);
    CHECK(std::abs(mean - rw.value) < 3 * combined);
  };
  compare("<cos theta_P>", u1::mean_plaquette(result.samples), u1::mean_plaquette(gauge));
  auto condensate = [&](const torch::Tensor& c) { return u1::chiral_condensate(c, kappa); };
  compare("Sigma", condensate(result.samples), measure(gauge, condensate));
}
