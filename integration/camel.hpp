#pragma once
// The symmetric camel of ZüNIS's benchmarks (Deutschmann & Götz, arXiv 2401.09069; KnownSymmetricCamelIntegrand
// of their code): two of the Gaussians of gaussian.hpp, on the diagonal at 1/4 and 3/4,
//
//   f(x) = prod_i exp(-((x_i - 1/4) / s)^2) + prod_i exp(-((x_i - 3/4) / s)^2),
//   I = 2 prod_i s (sqrt(pi) / 2) [erf(1 / (4 s)) + erf(3 / (4 s))].
//
// Their benchmark fixes the uniform-sampling relative standard deviation of f across d by choosing s per d:
// s = 0.2208, 0.3784, 0.5225, 0.6672 at d = 2, 4, 8, 16 for their sigma_1d = 0.1 (relative std 1.22), and
// 0.8620, 1.0470, 1.2620, 1.5141 for sigma_1d = 0.7 (relative std 0.20), where VEGAS beats the flow.
// Reads dimension and width (s > 0).
#include <cmath>
#include <string>

#include "integration/gaussian.hpp"
#include "integration/integrand.hpp"

namespace latflow {

class CamelIntegrand : public Integrand {
 public:
  explicit CamelIntegrand(const IntegrandOptions& o) : d_(o.dimension()), s_(o.width()) {
    require_integrand_option(s_ > 0, "camel", "width", "> 0", s_);
  }
  std::string name() const override { return "camel"; }
  std::int64_t dimension() const override { return d_; }
  at::Tensor operator()(const at::Tensor& x) const override {
    return gaussian_bump(x, 0.25, s_) + gaussian_bump(x, 0.75, s_);
  }
  std::optional<double> exact() const override {
    // The two bumps have equal integrals (mirror images under x -> 1 - x).
    return 2 * std::pow(gaussian_bump_integral_1d(0.25, s_), static_cast<double>(d_));
  }

 private:
  std::int64_t d_;
  double s_;
};

}  // namespace latflow
