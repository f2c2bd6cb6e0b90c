#pragma once
// An ODE solver for dx/dt = f(x, t) on a TensorTuple state, as odes/registry.hpp lists them. Steppers know
// nothing about flows, log-densities or gradients: the CNF (odes/cnf_field.hpp) and the adjoint system
// (odes/adjoint.hpp) are just two vector fields they integrate. The implementations adapt Boost.Odeint's
// steppers (odes/odeint_steppers.hpp); a stepper written by hand implements this interface directly.
#include <functional>

#include "odes/integrate.hpp"
#include "odes/tensor_algebra.hpp"

namespace latflow::odes {

/// dxdt = f(x, t): odeint's `System` concept. It may rebind dxdt's parts to fresh tensors.
using VectorField = std::function<void(const TensorTuple& x, TensorTuple& dxdt, double t)>;

class Stepper {
 public:
  virtual ~Stepper() = default;
  /// Global order p: the error of a solve with step h is O(h^p) (for adaptive methods: the order of the
  /// solution they propagate).
  virtual int order() const = 0;
  /// Whether the step size comes from error control (options.rtol, atol) rather than options.steps.
  virtual bool adaptive() const = 0;
  /// Replaces x(t0) by x(t1) (t1 < t0 integrates backwards) and adds the steps taken to `stats`.
  /// Throws IntegrationError when it cannot reach t1 with a finite state.
  virtual void integrate(const VectorField& f, TensorTuple& x, double t0, double t1, const SolverOptions& options,
                         SolveStats& stats) const = 0;
};

}  // namespace latflow::odes
