#pragma once
// What the integration tests share: an integrand from a lambda (for bad and custom integrands), a 2D midpoint
// quadrature (the reference of integrands without a closed form), and the reference integral of any
// registered integrand in d = 2.
#include <functional>
#include <string>
#include <utility>

#include <torch/torch.h>

#include "integration/integrand.hpp"

namespace latflow::testing {

class FunctionIntegrand : public Integrand {
 public:
  FunctionIntegrand(std::int64_t d, std::function<at::Tensor(const at::Tensor&)> f, std::string name = "test")
      : d_(d), f_(std::move(f)), name_(std::move(name)) {}
  std::string name() const override { return name_; }
  std::int64_t dimension() const override { return d_; }
  at::Tensor operator()(const at::Tensor& x) const override { return f_(x); }

 private:
  std::int64_t d_;
  std::function<at::Tensor(const at::Tensor&)> f_;
  std::string name_;
};

/// The midpoint rule on an n x n grid of [0, 1]^2, in float64, row by row.
inline double quadrature_2d(const Integrand& f, std::int64_t n) {
  const at::Tensor t = (torch::arange(n, torch::kDouble) + 0.5) / n;
  double sum = 0;
  for (std::int64_t i = 0; i < n; ++i) {
    const at::Tensor x = torch::stack({torch::full({n}, t[i].item<double>(), torch::kDouble), t}, 1);
    sum += f(x).sum().item<double>();
  }
  return sum / static_cast<double>(n * n);
}

/// The exact integral where known, else the 2D quadrature (d = 2 only).
inline double reference_integral(const Integrand& f) {
  if (const auto exact = f.exact()) return *exact;
  return quadrature_2d(f, 2000);
}

}  // namespace latflow::testing
