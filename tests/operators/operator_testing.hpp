#pragma once
// Helpers shared by the operator tests: a run card for the operator registry, random weights (a fresh
// operator is the identity flow, v == 0, so tests of its structure need nonzero weights), and the
// autograd trace of the Jacobian that the exact divergence is checked against.
#include <torch/torch.h>

#include <algorithm>
#include <cstdint>
#include <string>

#include "core/config.hpp"
#include "operators/registry.hpp"

namespace latflow::testing {

/// Small operators, so the Jacobian tests stay fast.
inline Config operator_config(std::int64_t kernel_radius = 2) {
  Config cfg;
  cfg.set("model.channels", std::int64_t{3});
  cfg.set("model.frequencies", std::int64_t{4});
  cfg.set("model.kernel_modes", std::int64_t{5});
  cfg.set("model.time_modes", std::int64_t{2});
  cfg.set("model.kernel_radius", kernel_radius);
  return cfg;
}

/// The largest kernel radius (at most 2) a T x L lattice admits.
inline std::int64_t radius_for(std::int64_t T, std::int64_t L) {
  return std::min<std::int64_t>(2, (std::min(T, L) - 1) / 2);
}

/// Builds `name` from operator_config in float64 with every parameter drawn from N(0, 0.5^2).
inline NeuralOperatorPtr random_operator(const std::string& name, std::int64_t kernel_radius = 2,
                                         std::uint64_t seed = 1) {
  torch::manual_seed(seed);
  auto op = operator_registry().create(name, operator_config(kernel_radius));
  op->to(torch::kFloat64);
  torch::NoGradGuard no_grad;
  for (auto& p : op->parameters()) p.normal_(0.0, 0.5);
  return op;
}

/// tr dv/dphi per configuration from the full Jacobian, one backward pass per site (configurations
/// are independent, so each pass gives row i of every configuration's Jacobian).
inline torch::Tensor autograd_trace(NeuralOperatorImpl& op, double t, const torch::Tensor& phi) {
  const auto B = phi.size(0), V = phi.size(1) * phi.size(2);
  const torch::Tensor x = phi.detach().clone().requires_grad_(true);
  const torch::Tensor v = op.forward(t, x).v.reshape({B, V});
  torch::Tensor trace = torch::zeros({B}, phi.options());
  for (std::int64_t i = 0; i < V; ++i) {
    const auto row = torch::autograd::grad({v.select(1, i).sum()}, {x}, {}, /*retain_graph=*/true)[0];
    trace += row.reshape({B, V}).select(1, i);
  }
  return trace;
}

inline double max_abs(const torch::Tensor& x) { return x.abs().max().item<double>(); }
inline double max_abs_diff(const torch::Tensor& a, const torch::Tensor& b) { return max_abs(a - b); }

}  // namespace latflow::testing
