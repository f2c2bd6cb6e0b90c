#include "odes/backprop.hpp"

#include "odes/cnf_field.hpp"

namespace latflow::odes {

FlowState Backprop::solve(Dynamics& dynamics, const FlowState& state, double t0, double t1,
                          std::shared_ptr<const Stepper> stepper, const SolverOptions& options,
                          SolveStats& stats) const {
  TensorTuple x{{state.phi, state.logq}};
  stepper->integrate(cnf_field(dynamics, stats.nfe), x, t0, t1, options, stats);
  return {x.parts[0], x.parts[1]};
}

}  // namespace latflow::odes
