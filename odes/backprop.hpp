#pragma once
// Gradients by backpropagation through the solver ("discretise then optimise"): autograd records every
// operation of every step, so the gradient is exact for the discrete solution, and the memory grows
// linearly with the number of steps (and with the rejected trial steps of an adaptive solve too).
#include "odes/gradient_method.hpp"

namespace latflow::odes {

class Backprop final : public GradientMethod {
 public:
  FlowState solve(Dynamics& dynamics, const FlowState& state, double t0, double t1,
                  std::shared_ptr<const Stepper> stepper, const SolverOptions& options,
                  SolveStats& stats) const override;
};

}  // namespace latflow::odes
