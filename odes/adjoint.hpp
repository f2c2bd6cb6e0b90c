#pragma once
// Gradients by the adjoint method ("optimise then discretise"; Chen et al. 2018, "Neural ordinary
// differential equations", arXiv 1806.07366, sec. 2 and appendix B; Pontryagin's costate). For the CNF
// z = (phi, log q), dz/dt = f(z, t, theta) = (v_t(phi), -div v_t(phi)) and a loss L(z(t1)), the adjoint
// a(t) = dL/dz(t) and the parameter adjoint a_theta obey
//
//   da/dt = - a^T df/dz,     da_theta/dt = - a^T df/dtheta,     a(t1) = dL/dz(t1),  a_theta(t1) = 0,
//
// and dL/dz(t0) = a(t0), dL/dtheta = a_theta(t0). Since f does not depend on log q, a_logq is constant
// (dL/dlogq0 = dL/dlogq1), and with a = (a_phi, a_logq)
//
//   a^T df/dphi   = a_phi^T dv/dphi   - a_logq d(div v)/dphi,
//   a^T df/dtheta = a_phi^T dv/dtheta - a_logq d(div v)/dtheta:
//
// the divergence's dependence on phi and theta feeds a_phi and a_theta. The backward pass integrates
// (phi, a_phi, a_theta) from t1 back to t0 with the forward stepper (a fixed-step method walks the forward
// grid in reverse; an adaptive one controls the error of the whole augmented state afresh), recomputing
// phi(t) instead of storing it, so memory does not grow with the number of steps. Each evaluation is one
// vector-Jacobian product of the Dynamics by torch::autograd::grad.
//
// The result is the gradient of the exact flow, which the solve approximates: it agrees with backprop's
// (the exact gradient of the discrete solve) up to the solver's error, O(h^p) for a fixed step h of a
// method of order p (tests/odes/adjoint_test.cpp).
// Limits: the Dynamics must outlive the backward pass; the gradients it returns are not themselves
// differentiable (no create_graph); SolveStats counts the forward solve only.
#include "odes/gradient_method.hpp"

namespace latflow::odes {

class Adjoint final : public GradientMethod {
 public:
  FlowState solve(Dynamics& dynamics, const FlowState& state, double t0, double t1,
                  std::shared_ptr<const Stepper> stepper, const SolverOptions& options,
                  SolveStats& stats) const override;
};

}  // namespace latflow::odes
