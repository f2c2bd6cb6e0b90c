#pragma once
// Checks shared by the tests of the Ising samplers (Wolff, checkerboard Metropolis): observables against
// Kaufman's exact values, and the distribution of the energy levels against the Boltzmann weights of
// enumerated configurations.
#include <cmath>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include <boost/math/distributions/chi_squared.hpp>
#include <boost/math/distributions/non_central_chi_squared.hpp>
#include <catch2/catch.hpp>
#include <torch/torch.h>

#include "lattice/ising_action.hpp"
#include "lattice/statistics.hpp"
#include "lattice_testing.hpp"

namespace latflow::testing {

/// Energy per site and specific heat of chain-major samples against Kaufman's values, within `sigmas` of
/// jackknife errors over bins of whole chains (independent, whatever the autocorrelation within a chain).
inline void check_energy_and_specific_heat(const IsingAction& action, const Lattice& lattice,
                                           const torch::Tensor& samples, std::int64_t chains, double sigmas = 4.5) {
  const auto measured = action.measure(samples, {}, static_cast<int>(chains));
  const auto exact = action.exact(lattice);
  for (const char* key : {"energy", "specific_heat"}) {
    const double value = measured[key]["value"].get<double>(), error = measured[key]["error"].get<double>();
    const double expected = exact[key].get<double>();
    INFO(lattice.str() << ", beta " << action.beta() << ", " << key << ": " << value << " +- " << error
                       << " vs exact " << expected << " (" << (value - expected) / error << " sigma)");
    CHECK(std::abs(value - expected) < sigmas * error);
  }
}

/// Pearson's chi^2 of the bond sums b = -H/J of independent configurations against the exact probabilities of
/// the levels at K = beta J, with neighbouring levels pooled until each bin expects >= 5 configurations; the
/// threshold of significance `alpha`, and the power of the test against the Boltzmann distribution at
/// K (1 + delta) (non-central chi^2 with lambda = n sum (p_alt - p)^2 / p).
struct LevelTest {
  double chi2 = 0, threshold = 0, power = 0;
  int dof = 0;
};

inline LevelTest energy_level_test(const torch::Tensor& samples, double K, double alpha, double delta) {
  const auto T = samples.size(1), L = samples.size(2);
  const auto s = samples.to(torch::kFloat64);
  const auto bonds = (s * (torch::roll(s, {-1}, {1}) + torch::roll(s, {-1}, {2}))).sum({1, 2}).to(torch::kLong);
  std::map<std::int64_t, double> observed;
  for (std::int64_t i = 0; i < bonds.size(0); ++i) observed[bonds[i].item<std::int64_t>()] += 1;
  const auto levels = ising_levels(T, L);
  const auto p = level_probabilities(levels, K), alternative = level_probabilities(levels, K * (1 + delta));
  const auto n = static_cast<double>(samples.size(0));

  struct Bin {
    double expected = 0, alternative = 0, observed = 0;
  };
  std::vector<Bin> bins(1);
  for (const auto& [b, pb] : p) {
    if (bins.back().expected >= 5) bins.emplace_back();
    bins.back().expected += n * static_cast<double>(pb);
    bins.back().alternative += n * static_cast<double>(alternative.at(b));
    bins.back().observed += observed.count(b) ? observed.at(b) : 0.0;
  }
  if (bins.size() > 1 && bins.back().expected < 5) {
    const Bin last = bins.back();
    bins.pop_back();
    bins.back().expected += last.expected;
    bins.back().alternative += last.alternative;
    bins.back().observed += last.observed;
  }
  LevelTest test;
  double lambda = 0, total = 0;
  for (const Bin& b : bins) {
    test.chi2 += (b.observed - b.expected) * (b.observed - b.expected) / b.expected;
    lambda += (b.alternative - b.expected) * (b.alternative - b.expected) / b.expected;
    total += b.observed;
  }
  REQUIRE(total == n);  // every sample lies on a level of the torus
  test.dof = static_cast<int>(bins.size()) - 1;
  test.threshold = boost::math::quantile(boost::math::chi_squared(test.dof), 1 - alpha);
  test.power = boost::math::cdf(
      boost::math::complement(boost::math::non_central_chi_squared(test.dof, lambda), test.threshold));
  return test;
}

/// tau_int (Gamma method, chains as replica) of the chain observable `name` of chain-major samples, in units
/// of the spacing of the samples.
inline stats::AutocorrelationTime chain_tau_int(const IsingAction& action, const torch::Tensor& samples,
                                                std::int64_t chains, const std::string& name) {
  for (const auto& [key, series] : action.chain_observables(samples)) {
    if (key != name) continue;
    const auto rows = series.reshape({chains, -1}).contiguous();
    std::vector<std::vector<double>> replica;
    for (std::int64_t c = 0; c < chains; ++c)
      replica.emplace_back(rows[c].data_ptr<double>(), rows[c].data_ptr<double>() + rows.size(1));
    return stats::tau_int(replica);
  }
  FAIL("no chain observable " << name);
  return {};
}

}  // namespace latflow::testing
