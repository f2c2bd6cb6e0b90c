#pragma once
// The diagonal Gaussian of ZüNIS's benchmarks (Deutschmann & Götz, arXiv 2401.09069; DiagonalGaussianIntegrand
// of their code), centred in the cube, with no factor 1/2 in the exponent:
//
//   f(x) = prod_i exp(-((x_i - mu) / s)^2),   mu = 1/2,
//   I = prod_i s (sqrt(pi) / 2) [erf(mu / s) + erf((1 - mu) / s)].
//
// Reads dimension and width (s > 0). The camel (camel.hpp) is a sum of two of them.
#include <cmath>
#include <string>

#include <torch/torch.h>

#include "integration/integrand.hpp"

namespace latflow {

/// exp(-sum_i ((x_i - centre) / s)^2) at x [N, d].
inline at::Tensor gaussian_bump(const at::Tensor& x, double centre, double s) {
  return torch::exp(-((x - centre) / s).square().sum(1));
}

/// int_0^1 exp(-((t - centre) / s)^2) dt.
inline double gaussian_bump_integral_1d(double centre, double s) {
  return s * std::sqrt(M_PI) / 2 * (std::erf(centre / s) + std::erf((1 - centre) / s));
}

class GaussianIntegrand : public Integrand {
 public:
  explicit GaussianIntegrand(const IntegrandOptions& o) : d_(o.dimension()), s_(o.width()) {
    require_integrand_option(s_ > 0, "gaussian", "width", "> 0", s_);
  }
  std::string name() const override { return "gaussian"; }
  std::int64_t dimension() const override { return d_; }
  at::Tensor operator()(const at::Tensor& x) const override { return gaussian_bump(x, 0.5, s_); }
  std::optional<double> exact() const override {
    return std::pow(gaussian_bump_integral_1d(0.5, s_), static_cast<double>(d_));
  }

 private:
  std::int64_t d_;
  double s_;
};

}  // namespace latflow
