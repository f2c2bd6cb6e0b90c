#pragma once
// The free field's conditional mean off a coarse sublattice: the Gaussian interpolation of multilevel
// (multigrid) sampling, which refines a coarse configuration with the free theory's conditional
// distribution of the new sites (the heat bath that RiGCS, Singha, Cellini, Nicoli, Jansen, Kuehn &
// Nakajima, ICLR 2025 [arXiv 2503.08918], improves with generative models).
//
// A free field on T x L with q0 ~ exp(-S0), S0 = phi^T (-Laplacian + m0^2) phi (lattice/free_field_prior.hpp), has
// covariance C(r) = (1/V) sum_p G(p) e^{ipr}, G(p) = 1 / (2 (p_hat^2 + m0^2)). Take its sublattice of stride s
// (any level of a coarse-to-fine hierarchy), and on it the coarse sites c(y) = phi(2sy) and one class of new
// sites f_d(y) = phi(2sy + sd), d in {(0,1), (1,0), (1,1)}. Then
//
//   E[f_d | c](y) = sum_y' K_d(y - y') c(y'),   K_d^(q) = sum_a G(p_a) e^{i s p_a.d} / sum_a G(p_a),
//
// with the (2s)^2 momenta p_a of the full lattice that alias to the coarse momentum q = 2s p_a mod 2 pi. The
// residual f_d - E[f_d | c] is independent of c. The map (c, f) -> (c, f - E[f | c]) is a shear: its Jacobian
// determinant is 1.
#include <cstdint>

#include <ATen/core/Tensor.h>

namespace latflow {

class FreeFieldProlongation {
 public:
  /// m0sq > 0 (UserError otherwise).
  explicit FreeFieldProlongation(double m0sq);

  /// E[f_d | c] for the three classes d = (1,1), (1,0), (0,1) (centres, time bonds, space bonds), [3, B, Tc, Lc],
  /// for coarse sites c [B, Tc, Lc] of the stride-s sublattice of a free field on (2 s Tc) x (2 s Lc) sites.
  at::Tensor conditional_means(const at::Tensor& coarse, std::int64_t stride) const;

  double mass_squared() const { return m0sq_; }

 private:
  double m0sq_;
};

}  // namespace latflow
