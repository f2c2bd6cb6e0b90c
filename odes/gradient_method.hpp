#pragma once
// How gradients of a CNF solve reach its inputs and parameters (diffrax's AbstractAdjoint): the same
// stepper and vector field, differentiated either by recording the solver's operations (backprop) or by
// solving the adjoint system backwards (adjoint). odes/registry.hpp lists them by name.
#include <memory>

#include "odes/integrate.hpp"
#include "odes/stepper.hpp"

namespace latflow::odes {

class GradientMethod {
 public:
  virtual ~GradientMethod() = default;
  /// Solves the CNF from t0 to t1 with `stepper` (options already validated, t0 != t1) so that gradients
  /// reach state.phi, state.logq and dynamics.parameters() this method's way; counts the forward solve into
  /// `stats`. Called with a graph wanted (GradMode on and something requiring grad).
  virtual FlowState solve(Dynamics& dynamics, const FlowState& state, double t0, double t1,
                          std::shared_ptr<const Stepper> stepper, const SolverOptions& options,
                          SolveStats& stats) const = 0;
};

}  // namespace latflow::odes
