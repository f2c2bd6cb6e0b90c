#pragma once
// The local neural operator: the same kernel integral operator as the spectral one, with finite-range
// position-space kernels whose weights are tied over the D4 orbits of the offsets (Gerdes et al.,
// arXiv 2207.00283, `kernel_d4`; there the kernel spans the whole lattice, here it has a fixed radius R
// so its parameters do not depend on the lattice size, as Máté & Fleuret's multi-lattice operators need):
//
//   v_t(phi)(x) = sum_{|r_0|, |r_1| <= R} sum_f K_f(r; t) g_f(phi(x - r)),     K_f(r; t) = c_{f, o(r)}(t),
//
// where o(r) is the D4 orbit of r, labelled by (a, b) = (max(|r_0|,|r_1|), min(|r_0|,|r_1|)): (R+1)(R+2)/2
// orbits, 6 for R = 2. Features g: operators/pointwise_features.hpp; c(t): operators/time_embedding.hpp.
// The kernel is invariant under rotations and reflections, so v is translation- and D4-equivariant, and
// it is even in r, so the cross-correlation conv2d computes is the convolution above. Applied as a
// circular convolution, it needs extents >= 2R + 1 (otherwise offsets alias onto the same site). The
// divergence is exact:
//
//   div v_t = sum_x sum_f K_f(0; t) g'_f(phi(x)).
#include <cstdint>

#include <ATen/core/Tensor.h>
#include <torch/arg.h>
#include <torch/nn/pimpl.h>

#include "operators/neural_operator.hpp"
#include "operators/pointwise_features.hpp"
#include "operators/time_embedding.hpp"

namespace latflow {

struct LocalOperatorOptions {
  /// F: the number of feature channels.
  TORCH_ARG(std::int64_t, channels) = 8;
  /// K: the number of sine frequencies of the features.
  TORCH_ARG(std::int64_t, frequencies) = 8;
  /// R: the kernel is nonzero for |r_mu| <= R.
  TORCH_ARG(std::int64_t, kernel_radius) = 2;
  /// M: the highest Fourier mode of the time dependence.
  TORCH_ARG(std::int64_t, time_modes) = 2;
};

class LocalOperatorImpl : public NeuralOperatorImpl {
 public:
  /// Throws UserError unless every option is >= 1.
  explicit LocalOperatorImpl(const LocalOperatorOptions& options = {});

  /// K_f(r; t) for r_mu = -R .. R: [F, 2R+1, 2R+1].
  at::Tensor kernel(double t);

  /// (R+1)(R+2)/2, the number of D4 orbits of the offsets.
  std::int64_t orbits() const;

  LocalOperatorOptions options;
  PointwiseFeatures features;
  /// c(t): [F, orbits], orbit 0 is the origin.
  TimeEmbedding coefficients;
  /// [orbits, (2R+1)^2] one-hot map from orbit weights to kernel entries (a buffer, so it follows .to()).
  at::Tensor orbit_map;

 protected:
  /// Throws UserError if an extent of phi is below 2R + 1.
  odes::Velocity evaluate(double t, const at::Tensor& phi) override;

 private:
  at::Tensor kernel_of(const at::Tensor& c) const;
};

TORCH_MODULE(LocalOperator);

}  // namespace latflow
