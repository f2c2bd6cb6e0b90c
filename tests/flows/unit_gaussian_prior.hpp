#pragma once
// Stand-in for lattice/normal_prior.hpp (NormalPrior, on the `physics` branch) until it is merged; removed
// then. N(0, 1) at every site: log q0 = -sum phi^2 / 2 - (V / 2) log(2 pi).
#include <cmath>

#include <torch/torch.h>

#include "lattice/prior.hpp"

namespace latflow::testing {

class UnitGaussian : public Prior {
 public:
  std::string name() const override { return "normal"; }
  at::Tensor sample(std::int64_t n, const Lattice& lattice, const c10::TensorOptions& options) const override {
    return torch::randn({n, lattice.T, lattice.L}, options);
  }
  at::Tensor log_prob(const at::Tensor& phi) const override {
    const double V = static_cast<double>(phi.size(1) * phi.size(2));
    return -0.5 * phi.pow(2).sum({1, 2}) - 0.5 * V * std::log(2 * M_PI);
  }
  nlohmann::json describe() const override { return {{"name", "normal"}}; }
};

}  // namespace latflow::testing
