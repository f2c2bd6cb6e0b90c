#pragma once
// The right-hand side of a continuous normalizing flow (Chen et al. 2018, "Neural ODEs"):
//
//   d phi / dt = v_t(phi),      d log q / dt = - div v_t(phi),
//
// so that integrating the pair (phi, log q) from t0 to t1 transports samples and their exact log-density.
// The solver only sees this interface: the vector field, the solver, the divergence and the gradient
// method are separate objects joined in odes/integrate.hpp (as in diffrax's diffeqsolve).
#include <vector>

#include <ATen/core/Tensor.h>

namespace latflow::odes {

/// The velocity of a batch of configurations and its divergence per configuration.
struct Velocity {
  at::Tensor v;           ///< same shape as phi
  at::Tensor divergence;  ///< [B]: sum_x d v(x) / d phi(x)
};

class Dynamics {
 public:
  virtual ~Dynamics() = default;
  /// v_t(phi) and its exact divergence. Must be differentiable (autograd) in phi and in parameters().
  virtual Velocity operator()(double t, const at::Tensor& phi) = 0;
  /// The tensors the adjoint method returns gradients for (the trainable parameters).
  virtual std::vector<at::Tensor> parameters() const = 0;
};

}  // namespace latflow::odes
