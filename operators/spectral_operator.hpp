#pragma once
// The spectral neural operator: a time-dependent kernel integral operator whose kernels are smooth
// functions of continuous lattice momentum, so one set of weights is a vector field on every lattice
// (Máté & Fleuret, arXiv 2401.00828, discretisation-invariant operator flows; features, zero init and
// exact divergence as in Gerdes et al., arXiv 2207.00283, `Phi4CNF`).
//
//   v_t(phi)(x) = sum_y sum_f K_f(x - y; t) g_f(phi(y)),         g: operators/pointwise_features.hpp
//
// The kernels are given in momentum space on the T x L lattice with momenta p_mu = 2 pi n_mu / extent_mu,
//
//   K~_f(p; t) = sum_j c_{fj}(t) b_j(u),    u = p_hat^2 / 8 in [0, 1],   p_hat^2 = sum_mu 4 sin^2(p_mu / 2),
//
// with c(t) from operators/time_embedding.hpp. A function of p_hat^2 alone is real and even in p and
// invariant under the lattice's translations, 90-degree rotations and reflections, so v is D4- and
// translation-equivariant by construction. The basis b_j (J = kernel_modes functions) is
//
//   b_j(u) = T_j(2u - 1),                            j = 0 .. ceil(J/2) - 1    (Chebyshev),
//   b_j(u) = m_i^2 / (p_hat^2 + m_i^2),  m_i^2 = 10^-i,  i = 0 .. floor(J/2) - 1   (propagators).
//
// Why this mix: a polynomial of degree d in p_hat^2 is a polynomial in the lattice Laplacian, i.e. a
// kernel of range d in position space; it carries the short-distance part. The transport from the free
// theory to phi^4 is to first order v ~ C dS_int/dphi with the propagator C = (p_hat^2 + m^2)^-1, whose
// range is the correlation length; a few free-propagator terms with correlation lengths 1, 3.2, 10, ...
// lattice units give the operator those long-range kernels, which no low-degree polynomial resolves.
// Both families are bounded (|b_j| <= 1), so the weights stay well scaled on every lattice size.
//
// With torch's FFT convention (forward unnormalised, inverse 1/V) the operator is
//
//   v = irfft2( sum_f K~_f(p; t) rfft2(g_f) ) = irfft2( sum_k (A^T K~)_k(p; t) rfft2(h_k) ),
//   K_f(r; t) = (1/V) sum_p K~_f(p; t) e^{i p r},
//
// since the mixing g = A h of the harmonics h = (phi, sin(omega phi)) commutes with the kernels: K + 1
// forward FFTs of the harmonics (g is never formed) and a single inverse FFT. Only y = x contributes to
// d v(x) / d phi(x), so the divergence is exact at cost O(V K):
//
//   div v_t = sum_x sum_f K_f(0; t) g'_f(phi(x)),     K_f(0; t) = (1/V) sum_p K~_f(p; t)   (THIS lattice).
//
// The basis on a lattice's half-spectrum and its full-spectrum mean are cached per (T, L, dtype, device).
#include <cstdint>
#include <map>
#include <mutex>
#include <tuple>

#include <ATen/core/Tensor.h>
#include <c10/core/TensorOptions.h>
#include <torch/arg.h>
#include <torch/nn/pimpl.h>

#include "operators/neural_operator.hpp"
#include "operators/pointwise_features.hpp"
#include "operators/time_embedding.hpp"

namespace latflow {

/// b_j(u) for j = 0 .. J-1 at the points u = p_hat^2 / 8: [J, u.shape...]. The kernel basis above.
at::Tensor spectral_kernel_basis(const at::Tensor& u, std::int64_t kernel_modes);

/// u = p_hat^2 / 8 at the momenta of the rfft2 half-spectrum of a T x L lattice: [T, L/2 + 1]
/// (or the full spectrum [T, L] when `half` is false), double precision on the CPU.
at::Tensor lattice_momentum_u(std::int64_t T, std::int64_t L, bool half = true);

struct SpectralOperatorOptions {
  /// F: the number of feature channels.
  TORCH_ARG(std::int64_t, channels) = 8;
  /// K: the number of sine frequencies of the features.
  TORCH_ARG(std::int64_t, frequencies) = 8;
  /// J: the number of momentum basis functions per kernel.
  TORCH_ARG(std::int64_t, kernel_modes) = 6;
  /// M: the highest Fourier mode of the time dependence.
  TORCH_ARG(std::int64_t, time_modes) = 2;
};

class SpectralOperatorImpl : public NeuralOperatorImpl {
 public:
  /// Throws UserError unless every option is >= 1.
  explicit SpectralOperatorImpl(const SpectralOperatorOptions& options = {});

  /// K~_f(p; t) at the momenta of the rfft2 half-spectrum of a T x L lattice: [F, T, L/2 + 1].
  at::Tensor kernel_spectrum(double t, std::int64_t T, std::int64_t L);
  /// K_f(0; t) = (1/V) sum_p K~_f(p; t) on a T x L lattice: [F].
  at::Tensor kernel_origin(double t, std::int64_t T, std::int64_t L);

  SpectralOperatorOptions options;
  PointwiseFeatures features;
  /// c(t): [F, J].
  TimeEmbedding coefficients;

 private:
  struct Basis {
    at::Tensor half;  ///< [J, T * (L/2 + 1)] b_j on the half-spectrum
    at::Tensor mean;  ///< [J] (1/V) sum_p b_j(p) over the full spectrum
  };
  const Basis& basis(std::int64_t T, std::int64_t L, const c10::TensorOptions& tensor_options);
  /// K~(p; t) [F, T, L/2+1] from c(t) [F, J].
  at::Tensor spectrum_of(const at::Tensor& c, const Basis& b, std::int64_t T, std::int64_t L) const;

  using BasisKey = std::tuple<std::int64_t, std::int64_t, int, int, int>;
  std::map<BasisKey, Basis> basis_cache_;
  std::mutex basis_mutex_;

 protected:
  odes::Velocity evaluate(double t, const at::Tensor& phi) override;
};

TORCH_MODULE(SpectralOperator);

}  // namespace latflow
