#pragma once
// Vector fields whose flows are known exactly, for the odes tests.
#include <cmath>
#include <vector>

#include <torch/torch.h>

#include "odes/dynamics.hpp"
#include "odes/integrate.hpp"

namespace latflow::odes::testing {

/// v_t(phi) = cos(t) phi^2 per site (a non-autonomous Riccati equation), div = 2 cos(t) sum_x phi(x).
/// Exact flow from t0: phi(t) = phi0 / (1 - phi0 (sin t - sin t0)),
///                     log q(t) = log q0 + 2 sum_x log(1 - phi0(x) (sin t - sin t0)).
class Riccati : public Dynamics {
 public:
  Velocity operator()(double t, const at::Tensor& phi) override {
    const auto sites = phi.flatten(1);
    return {std::cos(t) * phi * phi, 2 * std::cos(t) * sites.sum(1)};
  }
  std::vector<at::Tensor> parameters() const override { return {}; }

  static FlowState exact(const FlowState& s0, double t0, double t) {
    const auto denominator = 1 - s0.phi * (std::sin(t) - std::sin(t0));
    return {s0.phi / denominator, s0.logq + 2 * torch::log(denominator).flatten(1).sum(1)};
  }
};

/// v = A phi on the flattened field (A [N, N]), div = tr A. Exact flow: phi(t) = exp((t - t0) A) phi0,
/// log q(t) = log q0 - (t - t0) tr A.
class Linear : public Dynamics {
 public:
  explicit Linear(at::Tensor a) : a_(std::move(a)) {}
  Velocity operator()(double, const at::Tensor& phi) override {
    const auto v = torch::matmul(phi.flatten(1), a_.t()).view(phi.sizes());
    return {v, a_.trace().expand({phi.size(0)})};
  }
  std::vector<at::Tensor> parameters() const override { return {a_}; }

 private:
  at::Tensor a_;
};

/// v_t(phi) = tanh(W phi + b t + c) on the flattened field (N sites), with exact divergence
/// div = sum_i (1 - v_i^2) W_ii. A nonlinear, time-dependent field with parameters W, b, c.
class TanhField : public Dynamics {
 public:
  TanhField(std::int64_t sites, torch::TensorOptions options, std::uint64_t seed) {
    torch::manual_seed(seed);
    w_ = (torch::randn({sites, sites}, options) / std::sqrt(static_cast<double>(sites))).requires_grad_();
    b_ = (0.5 * torch::randn({sites}, options)).requires_grad_();
    c_ = (0.3 * torch::randn({sites}, options)).requires_grad_();
  }
  Velocity operator()(double t, const at::Tensor& phi) override {
    const auto v = torch::tanh(torch::matmul(phi.flatten(1), w_.t()) + t * b_ + c_);
    return {v.view(phi.sizes()), ((1 - v * v) * w_.diagonal()).sum(1)};
  }
  std::vector<at::Tensor> parameters() const override { return {w_, b_, c_}; }

 private:
  at::Tensor w_, b_, c_;
};

/// Least-squares slope of log(err) against log(h).
inline double log_log_slope(const std::vector<double>& h, const std::vector<double>& err) {
  double mx = 0, my = 0;
  const double n = static_cast<double>(h.size());
  for (std::size_t i = 0; i < h.size(); ++i) {
    mx += std::log(h[i]) / n;
    my += std::log(err[i]) / n;
  }
  double sxy = 0, sxx = 0;
  for (std::size_t i = 0; i < h.size(); ++i) {
    sxy += (std::log(h[i]) - mx) * (std::log(err[i]) - my);
    sxx += (std::log(h[i]) - mx) * (std::log(h[i]) - mx);
  }
  return sxy / sxx;
}

/// max |a - b| over all elements.
inline double max_abs_diff(const at::Tensor& a, const at::Tensor& b) { return (a - b).abs().max().item<double>(); }

}  // namespace latflow::odes::testing
