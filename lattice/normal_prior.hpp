#pragma once
// The independent unit normal base distribution, q0(phi) = prod_x N(phi(x); 0, 1):
//
//   log q0(phi) = -1/2 sum_x phi(x)^2 - (V/2) log(2 pi),
//
// the prior of the coupling-layer flows of Albergo et al., PRD 100, 034515 (2019) [arXiv 1904.12072] and of
// the continuous flows of Gerdes et al. [arXiv 2207.00283] (`IndependentUnitNormal`).
#include <ATen/core/Tensor.h>

#include "lattice/prior.hpp"

namespace latflow {

class NormalPrior : public Prior {
 public:
  std::string name() const override { return "normal"; }
  std::vector<std::int64_t> sample_shape(const Lattice& lattice) const override { return lattice.shape(); }
  at::Tensor sample(std::int64_t n, const Lattice& lattice, const c10::TensorOptions& options) const override;
  at::Tensor log_prob(const at::Tensor& phi) const override;
  nlohmann::json describe() const override;
};

}  // namespace latflow
