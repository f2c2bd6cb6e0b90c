#pragma once
// The Wilson-Dirac operator of two-dimensional lattice QED (the Schwinger model) on U(1) link angles
// theta [B, 2, T, L] (conventions of u1_gauge_field.hpp), in the hopping-parameter normalisation
//
//   D = 1 - kappa H,
//   H(x, y) = sum_mu [ (1 - gamma_mu) U_mu(x) delta_{x+mu, y} + (1 + gamma_mu) U_mu(x - mu)^* delta_{x-mu, y} ],
//
// U_mu(x) = exp(i theta_mu(x)), Wilson parameter r = 1, kappa = 1 / (2 m0 + 4), so that D = 2 kappa D_W with
// D_W = m0 + 2 - H/2. Fermion boundary conditions are periodic in space and, by default, antiperiodic in time
// (the fermions' thermal boundary condition): a hop that crosses the time boundary (from t = T-1 to t = 0 or
// back) carries a factor -1; FermionBoundary::periodic drops it.
//
// Gamma matrices (Euclidean, hermitian, {gamma_mu, gamma_nu} = 2 delta_mu,nu):
//   gamma_0 = sigma_1,  gamma_1 = sigma_2,  gamma_5 = sigma_3 = -i gamma_0 gamma_1.
// Then gamma_5 (1 -+ gamma_mu) gamma_5 = (1 +- gamma_mu), which makes D gamma_5-hermitian,
// gamma_5 D gamma_5 = D^dagger, so det D is real and (D^-1)^dagger = gamma_5 D^-1 gamma_5.
//
// Index layout of the dense matrices: spinor component s of site (t, x) is row/column 2 (t L + x) + s.
//
// Comparison with NeuMC (Bialas, Korcyl, Stebel, arXiv 2308.13294; github.com/nmcmc/neumc,
// neumc/src/neumc/physics/schwinger.py): their `Dirac(u, kappa)` is 1 - kappa Hopping(u) with the same
// gamma_0 = sigma_1 (for the direction of tensor dim -2), gamma_1 = sigma_2, the same projectors and phases
// (their entry M[y, x] for y = x + mu is (1 + gamma_mu) e^{-i u_mu(x)}, i.e. H(x + mu, x) above), the sign -1
// on hops across the boundary of the dim -2 direction, and the index 2 (L x_dim-2 + x_dim-1) + s: the two
// matrices agree entry by entry (their code assumes T = L). Their fermion action -2 Re logdet D is our
// -2 log|det D| and their condensate Re tr D^-1 / V is `chiral_condensate` below.
//
// Even-odd preconditioning. With T and L even, H only connects even (t + x even) with odd sites. Ordering
// even sites first, D = [[1, -kappa H_eo], [-kappa H_oe, 1]], and the Schur complement
//
//   M = 1 - kappa^2 H_eo H_oe   (on the even sites, V x V for 2 V/2 spinor components)
//
// gives det D = det M, D^-1_ee = M^-1, D^-1_oe = kappa H_oe M^-1, D^-1_eo = kappa M^-1 H_eo, and
// tr D^-1 = 2 tr M^-1 (the odd block 1 + kappa^2 H_oe M^-1 H_eo has trace V + tr(M^-1 (1 - M)) = tr M^-1).
// M has half the size of D, so its LU costs about 1/8. M is assembled directly from the two-hop paths
// even -> odd -> even (12 non-zero 2x2 blocks per row: the backtracking paths vanish because
// (1 - gamma)(1 + gamma) = 0). Its index: even site s = t L + x has block s / 2 (integer division), i.e. row
// 2 (s / 2) + spin; this numbers the even sites in their site order, because every pair of sites (2k, 2k+1)
// holds one even and one odd site.
//
// Derivative of log|det D| (the HMC force of the fermions). Only the hops along the link (x, mu) depend on
// theta_mu(x); with gamma_5-hermiticity the two terms of Re tr[D^-1 dD/dtheta] are complex conjugates, and
//
//   d log|det D| / dtheta_mu(x) = 2 kappa Im[ tr_spin( D^-1(x + mu, x) (1 - gamma_mu) ) W_mu(x) ],
//
// W_mu(x) = U_mu(x) times the boundary sign. Every link has one odd end, so the nearest-neighbour blocks
// D^-1(odd, even) = kappa (H_oe M^-1)(odd, even) are all that is needed (the even-to-odd ones follow by
// gamma_5-hermiticity): one inverse of M (the same size as the determinant) and O(V) gathers, with no graph
// and no dense D. It costs 3-4x log|det D| (N triangular solves after the LU), as much as autograd through
// slogdet (whose backward solves the same N right-hand sides), but needs no graph: it runs on the plain
// tensors of an HMC trajectory and keeps nothing alive between calls. On one CPU core, batch 16, float64:
// L = 8, 12, 16 take about 1.3, 16, 30 ms per log|det D| and 4, 44, 120 ms per gradient (the dense D would
// need 8, 55, 200 ms for log|det D| alone).
//
// Conventions of the observables, per flavour, in the kappa normalisation of D:
//   chiral condensate  Sigma = (1/V) tr D^-1 (real by gamma_5-hermiticity). The condensate of the
//                      conventionally normalised fields, psi_W = psi / sqrt(2 kappa), is
//                      (1/V) tr D_W^-1 = 2 kappa Sigma; <psibar psi> = -(1/V) tr D_W^-1 once the sign of the
//                      Grassmann reordering is included (not included here, as in NeuMC).
//   pion correlator    C_pi(t) = sum_x sum_{s,s'} |D^-1(t, x, s; 0, 0, s')|^2
//                      = sum_x tr[gamma_5 D^-1(x, 0) gamma_5 D^-1(0, x)] by gamma_5-hermiticity: the
//                      connected (isovector) pseudoscalar correlator from a point source at the origin, up to
//                      the overall sign convention of the fermion loop. Solved with the LU of M for the two
//                      source spins, D^-1 = [M^-1 b, kappa H_oe M^-1 b], without inverting anything.
#include <ATen/core/Tensor.h>

namespace latflow::u1 {

/// The boundary condition of the fermions in the time direction (space is always periodic).
enum class FermionBoundary { antiperiodic, periodic };

/// The dense D = 1 - kappa H, [B, 2V, 2V], complex64 for float32 links and complex128 for float64.
/// Any T, L >= 1 (with T or L = 1 or 2 coinciding hops add up).
at::Tensor wilson_dirac(const at::Tensor& theta, double kappa,
                      FermionBoundary time = FermionBoundary::antiperiodic);

/// The even-odd Schur complement M = 1 - kappa^2 H_eo H_oe, [B, V, V]; T and L must be even.
at::Tensor wilson_dirac_even_odd(const at::Tensor& theta, double kappa,
                      FermionBoundary time = FermionBoundary::antiperiodic);

/// log|det D| per configuration, [B] in the dtype of theta, from the LU of M (even T and L); differentiable.
at::Tensor log_abs_det_wilson(const at::Tensor& theta, double kappa,
                      FermionBoundary time = FermionBoundary::antiperiodic);

/// d log|det D| / dtheta in closed form, [B, 2, T, L]; even T and L.
at::Tensor log_abs_det_wilson_gradient(const at::Tensor& theta, double kappa,
                      FermionBoundary time = FermionBoundary::antiperiodic);

/// Sigma = (1/V) tr D^-1 = (2/V) tr M^-1 per configuration, [B]; even T and L.
at::Tensor chiral_condensate(const at::Tensor& theta, double kappa,
                      FermionBoundary time = FermionBoundary::antiperiodic);

/// C_pi(t), [B, T]; even T and L.
at::Tensor pion_correlator(const at::Tensor& theta, double kappa,
                      FermionBoundary time = FermionBoundary::antiperiodic);

}  // namespace latflow::u1
