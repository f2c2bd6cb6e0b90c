#pragma once
// The sinusoid of ZüNIS (Deutschmann & Götz, arXiv 2401.09069; SineIntegrand of their code): a wave along the
// hyperdiagonal (the square on the cosine is theirs, although their docstring says "cst + cos"),
//
//   f(x) = c + cos^2(a sum_i x_i),
//   I = c + 1/2 + 1/2 Re[((e^{2ia} - 1) / (2ia))^d]      (cos^2 u = (1 + cos 2u) / 2, and the cube factorises).
//
// Their benchmark uses a = 20, c = 0.1. Reads dimension, frequency (a != 0) and offset (c >= 0).
#include <cmath>
#include <complex>
#include <string>

#include <torch/torch.h>

#include "integration/integrand.hpp"

namespace latflow {

class SinusoidIntegrand : public Integrand {
 public:
  explicit SinusoidIntegrand(const IntegrandOptions& o) : d_(o.dimension()), a_(o.frequency()), c_(o.offset()) {
    require_integrand_option(a_ != 0 && std::isfinite(a_), "sinusoid", "frequency", "finite and != 0", a_);
    require_integrand_option(c_ >= 0, "sinusoid", "offset", ">= 0", c_);
  }
  std::string name() const override { return "sinusoid"; }
  std::int64_t dimension() const override { return d_; }
  at::Tensor operator()(const at::Tensor& x) const override { return c_ + torch::cos(a_ * x.sum(1)).square(); }
  std::optional<double> exact() const override {
    const std::complex<double> i2a(0.0, 2 * a_);
    const std::complex<double> one_axis = (std::exp(i2a) - 1.0) / i2a;
    return c_ + 0.5 + 0.5 * std::pow(one_axis, static_cast<int>(d_)).real();
  }

 private:
  std::int64_t d_;
  double a_, c_;
};

}  // namespace latflow
