#pragma once
// Exhaustive and statistical checks shared by the autoregressive sampler tests.
#include <cstdint>
#include <string>

#include <torch/torch.h>
#include <catch2/catch.hpp>

#include "flows/sampler.hpp"
#include "lattice/geometry.hpp"

namespace latflow::testing {

/// Every configuration of T x L spins +-1, [2^(T L), T, L]; configuration k has spin i = +1 iff bit i of k is set.
inline at::Tensor all_spin_configurations(const Lattice& lattice, torch::Dtype dtype) {
  const std::int64_t V = lattice.volume();
  const at::Tensor k = torch::arange(std::int64_t{1} << V, torch::kInt64).unsqueeze(1);
  const at::Tensor bits = torch::bitwise_and(torch::bitwise_right_shift(k, torch::arange(V, torch::kInt64)), 1);
  return (bits * 2 - 1).to(dtype).view({-1, lattice.T, lattice.L});
}

/// log q of every configuration of `lattice`, evaluated in batches of 4096.
inline at::Tensor log_prob_of_all(SamplerImpl& sampler, const Lattice& lattice) {
  torch::NoGradGuard no_grad;
  const at::Tensor all = all_spin_configurations(lattice, sampler.tensor_options().dtype().toScalarType());
  std::vector<at::Tensor> parts;
  for (const at::Tensor& chunk : all.split(4096)) parts.push_back(sampler.log_prob(chunk));
  return torch::cat(parts);
}

/// q sums to 1 over all configurations to `tol`, and is far from uniform (max q / min q > 100), so that the
/// check is not passed by a sampler that ignores its weights.
inline void check_normalised(SamplerImpl& sampler, const Lattice& lattice, double tol) {
  const at::Tensor logq = log_prob_of_all(sampler, lattice);
  INFO("lattice " << lattice.str());
  CHECK(std::abs(torch::logsumexp(logq, 0).exp().item<double>() - 1) < tol);
  CHECK((logq.max() - logq.min()).item<double>() > std::log(100.0));
}

/// sample()'s log q is log_prob of the sample, to `tol`, and the sample is spins +-1 of the lattice's shape.
inline void check_sample_log_prob(SamplerImpl& sampler, const Lattice& lattice, std::int64_t n, double tol) {
  INFO("lattice " << lattice.str());
  const Density d = sampler.sample(n, lattice);
  REQUIRE(d.phi.sizes() == at::IntArrayRef({n, lattice.T, lattice.L}));
  CHECK(d.phi.dtype() == sampler.tensor_options().dtype());
  CHECK(torch::all(d.phi.abs() == 1).item<bool>());
  torch::NoGradGuard no_grad;
  CHECK((d.logq - sampler.log_prob(d.phi)).abs().max().item<double>() < tol);
}

/// Pearson's chi^2 of the frequencies of n samples on a 2 x 2 lattice (16 states) against exp(log_prob):
/// 15 degrees of freedom, threshold 56.49, the 1 - 1e-6 quantile: a correct sampler fails with probability
/// 1e-6 (over seeds). Every expected count must be >= 5 for the chi^2 approximation to hold.
inline void check_frequencies(SamplerImpl& sampler, std::int64_t n) {
  const Lattice lattice = Lattice::square(2);
  const at::Tensor expected = log_prob_of_all(sampler, lattice).exp() * static_cast<double>(n);
  REQUIRE(expected.min().item<double>() >= 5);
  at::Tensor spins;
  {
    torch::NoGradGuard no_grad;
    spins = sampler.sample(n, lattice).phi.reshape({n, 4});
  }
  // The state index of all_spin_configurations: bit i set iff spin i is +1.
  const at::Tensor state = ((spins + 1) / 2).to(torch::kInt64).mul(torch::tensor({1, 2, 4, 8}, torch::kInt64)).sum(1);
  const at::Tensor observed = torch::bincount(state, {}, 16).to(expected.dtype());
  const double chi2 = ((observed - expected).pow(2) / expected).sum().item<double>();
  INFO("chi^2 = " << chi2 << " with 15 degrees of freedom");
  CHECK(chi2 < 56.49);
}

/// Every parameter tensor has a nonzero gradient.
inline void check_all_gradients(torch::nn::Module& m) {
  for (const auto& p : m.named_parameters()) {
    INFO(p.key());
    REQUIRE(p.value().grad().defined());
    CHECK(p.value().grad().abs().sum().item<double>() > 0);
  }
}

}  // namespace latflow::testing
