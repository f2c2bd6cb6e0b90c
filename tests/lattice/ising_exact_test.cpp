#include <torch/torch.h>

#include <catch2/catch.hpp>

#include <cmath>

#include "core/error.hpp"
#include "lattice/ising_exact.hpp"
#include "lattice_testing.hpp"

using namespace latflow;
namespace exact = latflow::ising::exact;

namespace {

const double beta_c = exact::kCriticalCoupling;

struct Enumerated {
  long double log_z, energy, specific_heat;
};

// ln Z, u and c of the T x L torus summed over all 2^(T L) configurations, in extended precision.
Enumerated enumerate(double beta, double J, std::int64_t T, std::int64_t L) {
  const auto levels = testing::ising_levels(T, L);
  const double K = beta * J;
  const auto p = testing::level_probabilities(levels, K);
  const long double N = static_cast<long double>(T * L);
  long double top = -INFINITY, mean = 0, var = 0, z = 0;
  for (const auto& [b, level] : levels) top = std::max(top, static_cast<long double>(K) * b);
  for (const auto& [b, level] : levels) z += level.count * std::exp(static_cast<long double>(K) * b - top);
  for (const auto& [b, pb] : p) mean += pb * b;
  for (const auto& [b, pb] : p) var += pb * (b - mean) * (b - mean);
  return {top + std::log(z), -J * mean / N, K * K * var / N};
}

double relative(double a, long double b) { return static_cast<double>(std::abs((a - b) / b)); }

}  // namespace

TEST_CASE("exact Ising ln Z, energy and specific heat equal enumeration of every configuration", "[ising]") {
  // 4x4 and both orientations of 4x3 (Kaufman's products run over the columns, so the two are different
  // computations of one Z), the double bonds of 2x2, and odd 3x3; below, at and above beta_c.
  for (auto [T, L] : {std::pair<std::int64_t, std::int64_t>{4, 4}, {4, 3}, {3, 4}, {2, 2}, {3, 3}, {2, 5}})
    for (double beta : {0.05, 0.2, 0.35, beta_c, 0.5, 0.7, 1.0}) {
      const auto e = enumerate(beta, 1.0, T, L);
      const auto t = exact::thermodynamics(beta, 1.0, L, T);
      INFO(T << "x" << L << ", beta " << beta << ": ln Z " << t.log_z << " vs " << static_cast<double>(e.log_z)
              << ", u " << t.energy << " vs " << static_cast<double>(e.energy) << ", c " << t.specific_heat
              << " vs " << static_cast<double>(e.specific_heat));
      // Observed: 2e-15 for ln Z and u, 7e-14 for c at beta = 1 (its absolute error ~ 10 K^2 eps).
      CHECK(relative(t.log_z, e.log_z) < 1e-14);
      CHECK(relative(t.energy, e.energy) < 1e-14);
      CHECK(relative(t.specific_heat, e.specific_heat) < 1e-12);
      CHECK(relative(t.free_energy, -e.log_z / (beta * T * L)) < 1e-14);
      CHECK(exact::log_partition_function(beta, 1.0, L, T) == t.log_z);
      CHECK(exact::free_energy(beta, 1.0, L, T) == t.free_energy);
      CHECK(exact::energy(beta, 1.0, L, T) == t.energy);
      CHECK(exact::specific_heat(beta, 1.0, L, T) == t.specific_heat);
    }
}

TEST_CASE("exact Ising results depend on beta J only, and the antiferromagnet on even tori is the ferromagnet",
          "[ising]") {
  for (double J : {0.5, 2.0, -1.5}) {
    const double K = 0.3;
    const auto t = exact::thermodynamics(K / std::abs(J), J, 8, 6), one = exact::thermodynamics(K, 1.0, 8, 6);
    INFO("J = " << J);
    CHECK(t.log_z == Approx(one.log_z).epsilon(1e-15));
    CHECK(t.energy == Approx(std::abs(J) * one.energy).epsilon(1e-15));
    CHECK(t.free_energy == Approx(std::abs(J) * one.free_energy).epsilon(1e-15));
    CHECK(t.specific_heat == Approx(one.specific_heat).epsilon(1e-15));
  }
  // The sublattice map checked by enumeration of the antiferromagnet itself.
  for (double beta : {0.2, 0.6}) {
    const auto e = enumerate(beta, -1.0, 4, 4);
    const auto t = exact::thermodynamics(beta, -1.0, 4, 4);
    CHECK(relative(t.log_z, e.log_z) < 1e-14);
    CHECK(relative(t.energy, e.energy) < 1e-14);
    CHECK(relative(t.specific_heat, e.specific_heat) < 1e-12);
  }
  CHECK_FALSE(exact::covers(0.3, -1.0, 4, 3));
  CHECK_THROWS_WITH(exact::thermodynamics(0.3, -1.0, 4, 3), Catch::Contains("frustrated"));
}

TEST_CASE("exact Ising at L = 512 approaches Onsager's infinite volume", "[ising]") {
  const std::int64_t L = 512;
  const double N = L * L;
  // Away from beta_c the finite-size corrections fall like e^{-L / xi} with xi < 7: what is left is rounding,
  // and ln 2 / N from the two ground states in the ordered phase.
  for (double beta : {0.2, 0.4, 0.5, 0.6, 1.0}) {
    const auto t = exact::thermodynamics(beta, 1.0, L, L);
    INFO("beta " << beta << ": f " << t.free_energy << ", u " << t.energy << ", c " << t.specific_heat);
    REQUIRE(std::isfinite(t.specific_heat));
    const double degeneracy = beta > beta_c ? std::log(2.0) / N : 0.0;
    CHECK(std::abs(t.log_z / N - degeneracy + beta * exact::onsager_free_energy(beta, 1.0)) < 1e-13);
    CHECK(std::abs(t.energy - exact::onsager_energy(beta, 1.0)) < 1e-13);
  }
  // At beta_c: ln Z - N (-beta f) tends to the critical amplitude of Ferdinand and Fisher, the conformal
  // partition function (|theta_2| + |theta_3| + |theta_4|) / (2 |eta|) of the square torus, with theta_3(i) =
  // pi^{1/4} / Gamma(3/4), theta_2(i) = theta_4(i) = 2^{-1/4} theta_3(i), eta(i) = Gamma(1/4) / (2 pi^{3/4});
  // the corrections are O(1/L^2) (1e-5 at L = 128).
  const double theta3 = std::pow(M_PI, 0.25) / std::tgamma(0.75), eta = std::tgamma(0.25) / (2 * std::pow(M_PI, 0.75));
  const double amplitude = std::log((theta3 + 2 * std::pow(2.0, -0.25) * theta3) / (2 * eta));
  const auto at = [&](std::int64_t size) { return exact::thermodynamics(beta_c, 1.0, size, size); };
  const auto t512 = at(512), t256 = at(256);
  CHECK(std::abs(t512.log_z + N * beta_c * exact::onsager_free_energy(beta_c, 1.0) - amplitude) < 1e-5);
  CHECK(exact::onsager_energy(beta_c, 1.0) == Approx(-std::sqrt(2.0)).epsilon(1e-15));
  // u - u_inf ~ a / L with corrections O(1/L^2); c = (8/pi) K_c^2 ln L + const + O(1/L) (Ferdinand, Fisher),
  // whose O(1/L) term is 3e-4 between L = 256 and 512.
  CHECK(std::abs((t512.energy + std::sqrt(2.0)) * 512 - (t256.energy + std::sqrt(2.0)) * 256) < 1e-5);
  CHECK(std::abs(t512.specific_heat - t256.specific_heat - 8 / M_PI * beta_c * beta_c * std::log(2.0)) < 1e-3);
}

TEST_CASE("exact Ising at the ends of its coupling range", "[ising]") {
  // K -> 0: ln Z / N = ln 2 + K^2 + O(K^4), u = -2J tanh K (1 + O(K^2)), c = 2 K^2; the sums over modes cancel
  // to O(K), so the relative accuracy of u and c is about eps / K.
  for (std::int64_t L : {4, 512}) {
    const double K = 1e-8;
    const auto t = exact::thermodynamics(K, 1.0, L, L);
    CHECK(t.log_z / (L * L) == Approx(std::log(2.0)).epsilon(1e-15));
    CHECK(t.energy == Approx(-2 * K).epsilon(1e-6));
    CHECK(t.specific_heat == Approx(2 * K * K).epsilon(1e-6));
  }
  // beta J = 50: the ground states alone, ln Z = 2 N K + ln 2, u = -2J, c = 0 up to rounding (~10 K^2 eps).
  for (std::int64_t L : {4, 512}) {
    const auto t = exact::thermodynamics(50, 1.0, L, L);
    CHECK(t.log_z == Approx(2.0 * L * L * 50 + std::log(2.0)).epsilon(1e-15));
    CHECK(t.energy == Approx(-2.0).epsilon(1e-15));
    CHECK(std::abs(t.specific_heat) < 1e-10);
  }
}

TEST_CASE("exact Ising results reject couplings and lattices they do not cover", "[ising]") {
  for (double beta : {0.0, -0.3, std::nan(""), double(INFINITY), 50.01})
    CHECK_THROWS_AS(exact::thermodynamics(beta, 1.0, 4, 4), UserError);
  CHECK_THROWS_WITH(exact::thermodynamics(0.0, 1.0, 4, 4), Catch::Contains("beta = 0") && !Catch::Contains("\n"));
  CHECK_THROWS_WITH(exact::thermodynamics(0.3, 0.0, 4, 4), Catch::Contains("J = 0"));
  CHECK_THROWS_WITH(exact::thermodynamics(0.3, 1.0, 1, 4), Catch::Contains("Lx, Ly >= 2"));
  CHECK_THROWS_AS(exact::onsager_free_energy(-1, 1.0), UserError);
  CHECK_FALSE(exact::covers(60, 1.0, 4, 4));
  CHECK(exact::covers(0.44, 1.0, 3, 5));
}
