#pragma once
// Site-wise features of a scalar field, the nonlinearity of the kernel operators (Gerdes et al.,
// arXiv 2207.00283, `Phi4CNF`: sine features of phi mixed into a few channels):
//
//   h(phi) = [phi, sin(omega_1 phi), ..., sin(omega_K phi)],     g_f(phi) = sum_k A_{fk} h_k(phi),
//
// with K trainable frequencies omega and an F x (K+1) mixing matrix A. Every h_k is odd in phi, so an
// operator linear in g is Z2-equivariant, v(-phi) = -v(phi). The derivative is known in closed form,
//
//   g'_f(phi) = A_{f0} + sum_{k>=1} A_{fk} omega_k cos(omega_k phi),
//
// which is what makes the divergence of v(x) = sum_y sum_f K_f(x - y) g_f(phi(y)) exact and cheap:
// only y = x contributes to d v(x) / d phi(x), so
//
//   div v = sum_x sum_f K_f(0) g'_f(phi(x))        (cost O(V K), no Jacobian, no Hutchinson).
//
// Initialisation: omega = linspace(0.5, 5, K), which spans the field scales of phi^4 near criticality
// (|phi| ~ 0.3 - 3) without using the random generator; A ~ N(0, 1/(K+1)) from LibTorch's default
// generator (so --seed fixes it). A must not start at zero: with zero-initialised kernels the gradient
// of the kernels is proportional to A, and a random A keeps the channels from moving in lockstep.
#include <cstdint>

#include <ATen/core/Tensor.h>
#include <torch/nn/module.h>
#include <torch/nn/pimpl.h>

#include <torch/arg.h>

namespace latflow {

struct PointwiseFeaturesOptions {
  PointwiseFeaturesOptions(std::int64_t channels, std::int64_t frequencies)
      : channels_(channels), frequencies_(frequencies) {}
  /// F: the number of mixed feature channels g_f.
  TORCH_ARG(std::int64_t, channels);
  /// K: the number of trainable sine frequencies.
  TORCH_ARG(std::int64_t, frequencies);
};

class PointwiseFeaturesImpl : public torch::nn::Module {
 public:
  /// Throws UserError unless channels >= 1 and frequencies >= 1.
  explicit PointwiseFeaturesImpl(const PointwiseFeaturesOptions& options);

  /// The unmixed features of phi [B, T, L]: the phases omega_k phi(x) and their sines. Throws UserError
  /// unless phi is [B, T, L] with the dtype and device of the parameters.
  struct Harmonics {
    at::Tensor phi;    ///< [B, T, L]
    at::Tensor phase;  ///< [B, K, T, L] omega_k phi(x)
    at::Tensor sine;   ///< [B, K, T, L] sin(omega_k phi(x))
  };
  Harmonics harmonics(const at::Tensor& phi);

  /// g_f(phi(x)) for phi [B, T, L]: [B, F, T, L] (validated as in harmonics).
  at::Tensor forward(const at::Tensor& phi);
  /// g_f from the harmonics of phi.
  at::Tensor mix(const Harmonics& h);

  /// sum_x sum_f w_f g'_f(phi(x)) for the harmonics of phi [B, T, L] and site weights w [F]: [B]. With
  /// w_f = K_f(0) it is the exact divergence of the kernel operator built on these features.
  at::Tensor diagonal_sum(const Harmonics& h, const at::Tensor& w);

  PointwiseFeaturesOptions options;
  /// [K] the frequencies omega_k.
  at::Tensor omega;
  /// [F, K+1] the mixing matrix A (column 0 multiplies phi itself).
  at::Tensor mixing;
};

TORCH_MODULE(PointwiseFeatures);

}  // namespace latflow
