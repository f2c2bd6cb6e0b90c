#pragma once
// The single entry point of odes/: solve a continuous normalizing flow (Chen et al. 2018, "Neural ordinary
// differential equations", arXiv 1806.07366; Grathwohl et al. 2018, "FFJORD", arXiv 1810.01367)
//
//   d phi / dt = v_t(phi),      d log q / dt = - div v_t(phi),
//
// from t0 to t1. As in diffrax's diffeqsolve, the orthogonal choices are separate objects joined here:
// the vector field (a Dynamics), the solver (a Stepper from odes/registry.hpp: a Boost.Odeint stepper on
// torch tensors), the divergence (exact, supplied by the Dynamics) and the gradient method (a
// GradientMethod: backpropagation through the solver or the adjoint method). All of them are chosen by name
// in SolverOptions, so a run card selects them and `latflow list` prints them.
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include <ATen/core/Tensor.h>

#include "core/error.hpp"
#include "odes/dynamics.hpp"

namespace latflow::odes {

/// A batch of configurations and their log-densities: phi [B, ...], logq [B].
struct FlowState {
  at::Tensor phi;
  at::Tensor logq;
};

struct SolverOptions {
  std::string method = "rk4";        ///< a name from solver_names(): "euler", "rk4", "dopri5"
  std::int64_t steps = 20;           ///< fixed-step methods: number of steps; adaptive ones: |t1 - t0| / steps is the first trial step
  double rtol = 1e-5;                ///< adaptive methods: relative tolerance of the local error
  double atol = 1e-7;                ///< adaptive methods: absolute tolerance of the local error
  std::string gradient = "backprop";  ///< a name from gradient_method_names(): "backprop", "adjoint"
  std::int64_t max_steps = 100000;   ///< adaptive methods: most step attempts (accepted + rejected) per solve
};

/// What one solve cost. With the adjoint method only the forward solve is counted.
struct SolveStats {
  std::int64_t nfe = 0;             ///< evaluations of the vector field
  std::int64_t accepted_steps = 0;
  std::int64_t rejected_steps = 0;  ///< adaptive methods only
};

/// A solve that could not be completed: the step size of an adaptive method underflowed, max_steps was
/// exhausted, or the state became non-finite. It is a UserError because the remedy is the user's (a looser
/// tolerance, more steps, a smaller learning rate that keeps the flow finite), and the message says which.
class IntegrationError : public UserError {
 public:
  using UserError::UserError;
};

/// Throws UserError unless every option is usable: known method and gradient names (with a did-you-mean),
/// steps >= 1, max_steps >= 1, finite rtol > 0 and atol > 0.
void validate(const SolverOptions& options);

/// Integrates d phi/dt = v, d logq/dt = -div from t0 to t1 (t1 < t0 integrates backwards) with the stepper
/// `options.method` (fixed-step "euler", "rk4" with options.steps steps; adaptive "dopri5" with rtol/atol)
/// and the gradient method `options.gradient`: "backprop" differentiates through the solver's operations;
/// "adjoint" (memory independent of the number of steps) is a custom autograd function that integrates the
/// adjoint system backwards (Chen et al. 2018) and returns gradients for phi0, logq0 and
/// dynamics.parameters(). When no gradient can be asked for (GradMode off, or nothing requires grad) no
/// graph is recorded and odeint's buffers are updated in place. The input tensors are never modified.
/// `stats`, when given, is overwritten with the cost of the (forward) solve. With "adjoint", `dynamics`
/// is called again during the backward pass, so it must outlive every backward() through the result.
/// Throws UserError for bad options, times or shapes, and IntegrationError when the solve fails.
FlowState integrate_flow(Dynamics& dynamics, FlowState state, double t0, double t1, const SolverOptions& options,
                         SolveStats* stats = nullptr);

/// Names and one-line descriptions of the solvers, in registry order (views of stepper_registry()).
const std::vector<std::pair<std::string, std::string>>& solver_names();
/// Names and one-line descriptions of the gradient methods (views of gradient_method_registry()).
const std::vector<std::pair<std::string, std::string>>& gradient_method_names();

}  // namespace latflow::odes
