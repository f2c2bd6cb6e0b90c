#include <torch/torch.h>

#include <catch2/catch.hpp>

#include <boost/math/quadrature/gauss.hpp>

#include <cmath>
#include <limits>
#include <vector>

#include "core/error.hpp"
#include "lattice/hmc.hpp"
#include "lattice/u1_exact.hpp"
#include "lattice/u1_gauge_action.hpp"
#include "lattice/u1_gauge_field.hpp"

using namespace latflow;
namespace exact = latflow::u1::exact;

namespace {

const auto f64 = torch::TensorOptions().dtype(torch::kFloat64);
const double eps = std::numeric_limits<double>::epsilon();
const double pi = M_PI;

using Gauss = boost::math::quadrature::gauss<double, 100>;

// Every configuration of the 1 x L torus on an n^L grid of its time links (the space links drop out:
// theta_P(x) = theta_0(x) - theta_0(x + 1)). The integrand is smooth and periodic, so the mean over the grid
// (the trapezoidal rule) converges faster than any power of n.
torch::Tensor ring_grid(int64_t L, int64_t n) {
  const auto angles = torch::arange(n, f64) * (2 * pi / n) - pi;
  std::vector<torch::Tensor> axes(L, angles);
  const auto mesh = torch::meshgrid(axes, "ij");
  auto theta = torch::zeros({static_cast<int64_t>(std::pow(n, L)), 2, 1, L}, f64);
  for (int64_t x = 0; x < L; ++x) theta.select(1, 0).select(1, 0).select(1, x).copy_(mesh[x].flatten());
  return theta;
}

// The Irwin-Hall density at x (sum of V uniform [0, 1) variables) from its closed form, and the sum of the
// magnitudes of its terms (the scale of its rounding error).
std::pair<double, double> irwin_hall(int64_t V, double x) {
  double sum = 0, magnitude = 0, binomial = 1, factorial = 1;
  for (int64_t k = 1; k < V; ++k) factorial *= k;
  for (int64_t k = 0; k <= V; ++k) {
    if (x > k) {
      const double term = binomial * std::pow(x - k, V - 1) / factorial;
      sum += (k % 2 == 0 ? 1 : -1) * term;
      magnitude += term;
    }
    binomial = binomial * (V - k) / (k + 1);
  }
  return {sum, magnitude};
}

// <phi^2> of one plaquette with density ~ e^{beta cos phi} on [-pi, pi]: the infinite-volume chi_t * 4 pi^2.
double single_plaquette_phi2(double beta) {
  const double norm = Gauss::integrate([&](double p) { return std::exp(beta * (std::cos(p) - 1)); }, -pi, pi);
  return Gauss::integrate([&](double p) { return p * p * std::exp(beta * (std::cos(p) - 1)); }, -pi, pi) / norm;
}

}  // namespace

TEST_CASE("exact partition function and loops equal brute-force integrals over the links", "[u1]") {
  // On the 1 x L torus, Z, <cos theta_P> and the 1x2 loop (two adjacent plaquettes) are L-dimensional
  // integrals over the time links, done here on the library's own configurations and action.
  for (auto [L, n] : {std::pair<int64_t, int64_t>{2, 64}, {3, 40}, {4, 24}}) {
    const auto theta = ring_grid(L, n);
    for (double beta : {0.5, 1.5}) {
      const auto weight = torch::exp(-U1GaugeAction(beta).action(theta));
      const double z = weight.mean().item<double>();
      const double plaq = (weight * u1::mean_plaquette(theta)).mean().item<double>() / z;
      const auto loops = torch::cos(u1::rectangle_angles(theta).select(1, 1)).mean({1, 2});
      const double loop = (weight * loops).mean().item<double>() / z;
      INFO("1x" << L << ", beta " << beta);
      // The grid sums n^L terms of size e^{beta V}: rounding of a few ulp per term, relative.
      const double tol = 64 * eps * L;
      CHECK(std::abs(exact::log_partition_function(beta, {1, L}) - std::log(z)) <= tol);
      CHECK(exact::plaquette(beta, {1, L}) == Approx(plaq).epsilon(tol));
      CHECK(exact::wilson_loop(beta, {1, L}, 2) == Approx(loop).epsilon(tol));
    }
  }
  // Two plaquettes theta_P and -theta_P: Z = I_0(2 beta), <cos theta_P> = I_1(2 beta) / I_0(2 beta).
  CHECK(exact::log_partition_function(1.3, {2, 1}) == Approx(std::log(std::cyl_bessel_i(0.0, 2.6))).epsilon(8 * eps));
  CHECK(exact::plaquette(1.3, {1, 2}) ==
        Approx(std::cyl_bessel_i(1.0, 2.6) / std::cyl_bessel_i(0.0, 2.6)).epsilon(8 * eps));
}

TEST_CASE("exact Wilson loops: the loop around every plaquette is trivial, large volumes need no care", "[u1]") {
  for (auto [T, L] : {std::pair<int64_t, int64_t>{4, 4}, {3, 5}, {64, 64}})
    for (double beta : {0.0, 2.0, 10.0}) {
      // All V plaquettes sum to zero: cos = 1. No plaquette at all: also 1.
      CHECK(exact::wilson_loop(beta, {T, L}, T * L) == Approx(1).epsilon(4 * eps));
      CHECK(exact::wilson_loop(beta, {T, L}, 0) == Approx(1).epsilon(4 * eps));
    }
  // At V = 64^2 and beta <= 50 the n != 0 terms are (I_1/I_0)^4096 ~ e^{-4096 / (2 beta)} < 1e-17 of the
  // n = 0 one: the infinite-volume values I_1/I_0, (I_1/I_0)^2 and log Z = V log I_0(beta).
  for (double beta : {1.0, 10.0, 50.0}) {
    const double r = std::cyl_bessel_i(1.0, beta) / std::cyl_bessel_i(0.0, beta);
    CHECK(exact::plaquette(beta, {64, 64}) == Approx(r).epsilon(8 * eps));
    CHECK(exact::wilson_loop(beta, {64, 64}, 2) == Approx(r * r).epsilon(8 * eps));
    CHECK(exact::log_partition_function(beta, {64, 64}) ==
          Approx(4096 * std::log(std::cyl_bessel_i(0.0, beta))).epsilon(8 * eps));
  }
  // At beta = 700 they are not small, (I_1/I_0)^4096 = e^{-2.9}, and I_0^V ~ 10^{1.2e6} overflows any double.
  // I_n/I_0 <= (I_1/I_0)^n (the ratios I_{n+1}/I_n decrease), so 1 < Z / I_0^V < 1 + 2 q / (1 - q) < 3 with
  // q = (I_1/I_0)^V < 1/2.
  const double log_i0 = std::log(std::cyl_bessel_i(0.0, 700.0));
  const double log_z = exact::log_partition_function(700, {64, 64});
  CHECK(log_z > 4096 * log_i0);
  CHECK(log_z < 4096 * log_i0 + std::log(3.0));
  CHECK(exact::plaquette(700, {64, 64}) > 0);
  CHECK(exact::plaquette(700, {64, 64}) < 1);
  CHECK(exact::plaquette(0, {4, 4}) == 0);
  CHECK(exact::log_partition_function(0, {4, 4}) == 0);
}

TEST_CASE("exact charge distribution equals a brute-force integral on the 1x3 torus", "[u1]") {
  // Three plaquettes phi_1, phi_2, phi_3 = -(phi_1 + phi_2) mod 2 pi: Q = 1 exactly on the triangle
  // phi_1 + phi_2 > pi, a smooth integrand there (Gauss-Legendre on phi_1 = pi u, phi_2 = pi (1 - u v)).
  for (double beta : {0.0, 0.7, 2.0, 5.0}) {
    auto density = [&](double p1, double p2) {
      return std::exp(beta * (std::cos(p1) + std::cos(p2) + std::cos(p1 + p2) - 3));
    };
    const double q1 = Gauss::integrate([&](double u) {
      return Gauss::integrate([&](double v) { return pi * pi * u * density(pi * u, pi * (1 - u * v)); }, 0, 1);
    }, 0, 1);
    // The whole torus, periodic: the trapezoidal rule is exact to rounding with 64 points.
    double z = 0;
    for (int i = 0; i < 64; ++i)
      for (int j = 0; j < 64; ++j) z += density(2 * pi * i / 64, 2 * pi * j / 64) * (2 * pi / 64) * (2 * pi / 64);
    const auto p = exact::charge_distribution(beta, {1, 3});
    INFO("beta " << beta << ": P(1) = " << p(1) << ", brute force " << q1 / z);
    REQUIRE(p.p.size() == 2);  // |Q| <= V/2
    // P(Q) is computed to a few eps of the total probability.
    CHECK(std::abs(p(1) - q1 / z) <= 64 * eps);
    CHECK(p(-1) == p(1));
    CHECK(std::abs(p(0) - (1 - 2 * q1 / z)) <= 64 * eps);
    CHECK(p(2) == 0);
  }
}

TEST_CASE("exact charge distribution at beta = 0 is the Irwin-Hall density", "[u1]") {
  for (auto [T, L] : {std::pair<int64_t, int64_t>{1, 3}, {2, 2}, {1, 5}, {2, 3}, {2, 4}, {3, 3}}) {
    const int64_t V = T * L;
    const auto p = exact::charge_distribution(0, {T, L});
    // |Q| <= V/2, and P(V/2) = 0 for even V (the end of the support).
    REQUIRE(p.p.size() == static_cast<std::size_t>((V + 1) / 2));
    for (int64_t Q = 0; 2 * Q <= V; ++Q) {
      const auto [value, magnitude] = irwin_hall(V, Q + 0.5 * V);
      INFO(T << "x" << L << ", Q = " << Q);
      CHECK(std::abs(p(Q) - value) <= 16 * eps * magnitude);
    }
    // chi_t = 1/12 for V >= 3: the discrete second moment of a B-spline of order >= 3 is its variance.
    CHECK(p.second_moment() / V == Approx(1.0 / 12).epsilon(16 * V * eps));
    CHECK(exact::topological_susceptibility(0, {T, L}) == Approx(1.0 / 12).epsilon(16 * eps));
  }
  CHECK(exact::topological_susceptibility(0, {64, 64}) == Approx(1.0 / 12).epsilon(16 * eps));
  // V <= 2: |Q| = V/2 would need every wrapped plaquette at -pi, so Q = 0.
  for (Lattice lattice : {Lattice{1, 1}, Lattice{1, 2}, Lattice{2, 1}}) {
    CHECK(exact::charge_distribution(1.0, lattice).p == std::vector<double>{1.0});
    CHECK(exact::topological_susceptibility(1.0, lattice) == 0);
  }
}

TEST_CASE("exact charge distribution: normalised, and its second moment is the closed-form chi_t", "[u1]") {
  for (auto [T, L] : {std::pair<int64_t, int64_t>{1, 3}, {2, 2}, {4, 4}, {3, 5}, {8, 8}, {16, 16}})
    for (double beta : {0.05, 1.0, 2.0, 5.0, 12.0}) {
      const int64_t V = T * L;
      const auto p = exact::charge_distribution(beta, {T, L});
      double total = p(0), smallest = p(0);
      for (std::size_t q = 1; q < p.p.size(); ++q) {
        total += 2 * p.p[q];
        smallest = std::min(smallest, p.p[q]);
        CHECK(p.p[q] <= p.p[q - 1]);  // symmetric and unimodal, as a convolution of such densities
      }
      const double chi = exact::topological_susceptibility(beta, {T, L});
      INFO(T << "x" << L << ", beta " << beta);
      CHECK(smallest > 0);
      // Z_Q from the nu sum against Z from the Bessel sum: rounding of the V-th powers, V eps.
      CHECK(std::abs(total - 1) <= 16 * V * eps);
      // The closed form sums Fourier terms of phi^2 of size <= pi^2/3 (in units of I_0), i.e. <= 1/12 in
      // chi_t, with cancellations: its rounding is eps/12; the moment of P(Q) errs by V eps relative.
      CHECK(std::abs(p.second_moment() / V - chi) <= 64 * eps / 12 + 16 * V * eps * chi);
    }
}

TEST_CASE("exact chi_t: infinite-volume limit and the large-beta saddle point", "[u1]") {
  // At V = 64^2 the constraint sum_P phi_P = 2 pi Q no longer matters: chi_t = <phi^2>_1 / (4 pi^2).
  for (double beta : {0.5, 2.0, 10.0}) {
    const double phi2 = single_plaquette_phi2(beta);
    // Rounding of the closed form: eps times its largest terms, pi^2/3 / (4 pi^2) = 1/12.
    CHECK(std::abs(exact::topological_susceptibility(beta, {64, 64}) - phi2 / (4 * pi * pi)) <= 64 * eps / 12);
    CHECK(exact::charge_distribution(beta, {64, 64}).second_moment() / 4096 ==
          Approx(phi2 / (4 * pi * pi)).epsilon(4096 * 16 * eps));
  }
  // At fixed V and large beta, Q = 1 is the saddle phi_P = 2 pi / V of the V - 1 free plaquettes:
  // log P(1)/P(0) = -beta V (1 - cos(2pi/V)) - (V-1)/2 log cos(2pi/V) + O(1/beta). The remainder must halve
  // when beta doubles (a wrong exponent or prefactor would make it grow or stay).
  const int64_t V = 64;
  auto remainder = [&](double beta) {
    const auto p = exact::charge_distribution(beta, {8, 8});
    const double c = std::cos(2 * pi / V);
    return std::log(p(1) / p(0)) + beta * V * (1 - c) + 0.5 * (V - 1) * std::log(c);
  };
  const double r20 = remainder(20), r40 = remainder(40), r80 = remainder(80);
  INFO("remainders " << r20 << ", " << r40 << ", " << r80);
  CHECK(r20 / r40 == Approx(2).margin(0.1));
  CHECK(r40 / r80 == Approx(2).margin(0.1));
  CHECK(std::abs(r80) < 0.01);
}

TEST_CASE("exact U(1) results reject couplings and sizes they do not cover", "[u1]") {
  CHECK_THROWS_WITH(exact::plaquette(-1, {4, 4}), Catch::Contains("beta = -1") && Catch::Contains("0 <= beta <= 700"));
  CHECK_THROWS_AS(exact::log_partition_function(800, {4, 4}), UserError);
  CHECK_THROWS_AS(exact::charge_distribution(std::nan(""), {4, 4}), UserError);
  CHECK_THROWS_AS(exact::topological_susceptibility(1, {0, 4}), UserError);
  CHECK_THROWS_WITH(exact::wilson_loop(1, {4, 4}, 17), Catch::Contains("area = 17"));
  CHECK_THROWS_AS(exact::wilson_loop(1, {4, 4}, -1), UserError);
}

TEST_CASE("HMC of the U(1) gauge theory reproduces the exact plaquette, 2x1 loop, chi_t and P(Q)", "[u1][.slow]") {
  torch::manual_seed(81);
  const double beta = 2.0;
  const Lattice lattice{4, 4};
  HMCOptions options;
  options.chains = 32;
  options.thermalization = 300;
  options.trajectories = 8000;  // tau_int(Q^2) ~ 2.3 trajectories: ~ 5000 independent charges per observable
  const auto result = run_hmc(U1GaugeAction(beta), lattice, options, f64);
  const auto samples = result.samples;
  const auto q = torch::round(u1::topological_charge(samples));
  // Chain means are independent: their spread gives the error whatever the autocorrelation.
  auto check = [&](const char* what, const torch::Tensor& values, double expected) {
    const auto per_chain = values.to(torch::kFloat64).view({options.chains, -1}).mean(1);
    const double mean = per_chain.mean().item<double>();
    const double error = per_chain.std().item<double>() / std::sqrt(double(options.chains));
    INFO(what << ": HMC " << mean << " +- " << error << ", exact " << expected);
    CHECK(std::abs(mean - expected) < 3 * error);
  };
  const auto p = exact::charge_distribution(beta, lattice);
  check("<cos theta_P>", u1::mean_plaquette(samples), exact::plaquette(beta, lattice));
  check("<W(2x1)>", u1::mean_rectangle(samples), exact::wilson_loop(beta, lattice, 2));
  check("chi_t", q.square() / lattice.volume(), exact::topological_susceptibility(beta, lattice));
  check("P(0)", (q == 0).to(torch::kFloat64), p(0));
  check("P(|Q| = 1)", (q.abs() == 1).to(torch::kFloat64), p(1) + p(-1));
  CHECK(result.acceptance > 0.6);
}
