#pragma once
// The registries of odes/: ODE solvers (SolverOptions::method) and gradient methods
// (SolverOptions::gradient). Wrapping another Boost.Odeint stepper is one line in odes/registry.cpp; a
// hand-written Stepper or GradientMethod is one file plus one line. The conformance tests in tests/odes/
// loop over these lists, so a new solver is tested for its order of convergence, reversibility and
// adjoint gradients without new test code.
#include <memory>

#include "core/registry.hpp"
#include "odes/gradient_method.hpp"
#include "odes/stepper.hpp"

namespace latflow::odes {

/// Solvers by SolverOptions::method: "euler", "rk4", "dopri5".
const Registry<std::unique_ptr<Stepper>>& stepper_registry();
/// Gradient methods by SolverOptions::gradient: "backprop", "adjoint".
const Registry<std::unique_ptr<GradientMethod>>& gradient_method_registry();

}  // namespace latflow::odes
