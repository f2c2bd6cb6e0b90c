#pragma once
// The Haar (uniform) measure on U(1) link angles, the base distribution of gauge-equivariant flows
// (Kanwar et al., PRL 125, 121601 (2020) [arXiv 2003.06413]): every theta_mu(x) independent and uniform on
// the circle (drawn in [-pi, pi); angles are defined mod 2 pi),
//
//   log q0(theta) = -2 V log(2 pi),
//
// for configurations [B, 2, T, L] (conventions of lattice/u1_gauge_field.hpp). It is the beta = 0 point of
// the Wilson action, invariant under gauge transformations, so a gauge-equivariant flow from it has a
// gauge-invariant density.
#include <ATen/core/Tensor.h>

#include "lattice/prior.hpp"

namespace latflow {

class HaarPrior : public Prior {
 public:
  std::string name() const override { return "haar"; }
  std::string sample_space() const override { return "angle"; }
  std::vector<std::int64_t> sample_shape(const Lattice& lattice) const override;
  at::Tensor sample(std::int64_t n, const Lattice& lattice, const c10::TensorOptions& options) const override;
  at::Tensor log_prob(const at::Tensor& theta) const override;
  nlohmann::json describe() const override;
};

}  // namespace latflow
