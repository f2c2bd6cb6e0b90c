#pragma once
// The free (lambda = 0) lattice scalar theory as a base distribution, the prior of the neural-operator
// flows of Mate & Fleuret [arXiv 2401.00828] (and the `gauss_to_free` layer of anvil, Del Debbio et al.):
//
//   S0[phi] = sum_x [ sum_mu (phi(x+mu) - phi(x))^2 + m0^2 phi(x)^2 ] = phi^T A phi,   A = -Laplacian + m0^2,
//   q0(phi) = exp(-S0[phi]) / Z0,   log Z0 = (V/2) log pi - 1/2 sum_p log(p_hat^2 + m0^2),
//
// in the canonical convention of lattice/phi4_action.hpp, with p_mu = 2 pi n_mu / extent_mu and
// p_hat^2 = sum_mu 4 sin^2(p_mu / 2), the eigenvalues of -Laplacian. Its covariance is (2A)^{-1}, diagonal in
// momentum space, so a sample is exact and costs two FFTs: with unitary ("ortho") transforms,
//
//   phi = F^{-1} [ s(p) F xi ],   xi ~ N(0, 1) per site,   s(p) = 1 / sqrt(2 (p_hat^2 + m0^2)),
//
// done with rfft2/irfft2 (s(p) = s(-p) keeps the Hermitian symmetry of a real field). Any T, L.
#include <ATen/core/Tensor.h>

#include "lattice/phi4_action.hpp"
#include "lattice/prior.hpp"

namespace latflow {

class FreeFieldPrior : public Prior {
 public:
  /// m0sq > 0 (at m0sq = 0 the constant mode is not normalisable).
  explicit FreeFieldPrior(double m0sq);

  double mass_squared() const { return free_action_.m2(); }
  /// log Z0 on `lattice`, in double precision.
  double log_normalization(const Lattice& lattice) const;

  std::string name() const override { return "free"; }
  std::vector<std::int64_t> sample_shape(const Lattice& lattice) const override { return lattice.shape(); }
  at::Tensor sample(std::int64_t n, const Lattice& lattice, const c10::TensorOptions& options) const override;
  at::Tensor log_prob(const at::Tensor& phi) const override;
  /// {"name": "free", "m2": m0sq}
  nlohmann::json describe() const override;

 private:
  Phi4Action free_action_;
};

}  // namespace latflow
