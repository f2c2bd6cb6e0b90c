#pragma once
// Boost.Odeint's steppers as latflow Steppers: the odeint stepper is instantiated on the TensorTuple state
// with the tensor algebra and operations of odes/tensor_algebra.hpp, and driven by one of two loops.
//
//  - FixedStep: n = options.steps equal steps h = (t1 - t0) / n on the grid t_k = t0 + k h (odeint's
//    `Stepper` concept: euler, runge_kutta4, ...). Integrating back from t1 to t0 with the same n walks the
//    same grid in reverse, which is what the adjoint method's backward solve needs.
//  - ErrorControlled: odeint's controlled_runge_kutta around an error stepper (runge_kutta_dopri5, ...) with
//    odeint's default error checker, err = max_i |e_i| / (atol + rtol (|x_i| + h |dx_i/dt|)) over the
//    whole batch, a step being accepted when err <= 1. The loop is ours rather than odeint's
//    integrate_adaptive so that a solve cannot run forever: it counts accepted and rejected steps, stops at
//    options.max_steps attempts, and stops when the step size underflows (which a NaN error forces, see
//    norm_inf). Accepted steps swap two state buffers instead of copying.
//
// Every solve ends with one finiteness check of the state, so a flow that blew up fails loudly.
#include <algorithm>
#include <cmath>
#include <limits>
#include <string>
#include <utility>

#include <boost/numeric/odeint/stepper/controlled_runge_kutta.hpp>
#include <boost/numeric/odeint/stepper/controlled_step_result.hpp>
#include <boost/numeric/odeint/util/resizer.hpp>

#include "odes/stepper.hpp"

namespace latflow::odes {

namespace detail {

/// An odeint stepper template instantiated on tensors.
template <template <class, class, class, class, class, class, class> class OdeintStepper>
using OnTensors = OdeintStepper<TensorTuple, double, TensorTuple, double, TensorAlgebra, TensorOperations,
                                boost::numeric::odeint::initially_resizer>;

/// Odeint copies the system it is given; this forwards to one VectorField without copying it.
struct SystemRef {
  const VectorField* f;
  void operator()(const TensorTuple& x, TensorTuple& dxdt, double t) const { (*f)(x, dxdt, t); }
};

inline void require_finite(const TensorTuple& x, double t) {
  if (!all_finite(x))
    throw IntegrationError("ODE solve produced a non-finite state (NaN or inf) by t = " + std::to_string(t) +
                           ": the vector field blew up; use smaller steps or a smaller learning rate");
}

}  // namespace detail

template <template <class, class, class, class, class, class, class> class OdeintStepper>
class FixedStep final : public Stepper {
  using Odeint = detail::OnTensors<OdeintStepper>;

 public:
  int order() const override { return Odeint::order_value; }
  bool adaptive() const override { return false; }
  void integrate(const VectorField& f, TensorTuple& x, double t0, double t1, const SolverOptions& options,
                 SolveStats& stats) const override {
    Odeint stepper;
    const double h = (t1 - t0) / static_cast<double>(options.steps);
    for (std::int64_t k = 0; k < options.steps; ++k) stepper.do_step(detail::SystemRef{&f}, x, t0 + k * h, h);
    stats.accepted_steps += options.steps;
    detail::require_finite(x, t1);
  }
};

template <template <class, class, class, class, class, class, class> class OdeintErrorStepper>
class ErrorControlled final : public Stepper {
  using Odeint = detail::OnTensors<OdeintErrorStepper>;
  using Controlled = boost::numeric::odeint::controlled_runge_kutta<Odeint>;
  using ErrorChecker = boost::numeric::odeint::default_error_checker<double, TensorAlgebra, TensorOperations>;

 public:
  int order() const override { return Odeint::stepper_order_value; }
  bool adaptive() const override { return true; }
  void integrate(const VectorField& f, TensorTuple& x, double t0, double t1, const SolverOptions& options,
                 SolveStats& stats) const override {
    namespace odeint = boost::numeric::odeint;
    if (t0 == t1) return;
    Controlled controlled{ErrorChecker(options.atol, options.rtol)};
    const detail::SystemRef system{&f};
    const double span = t1 - t0;
    // Steps shorter than this barely move t: rejected down to it, the problem is too stiff or the error is
    // not finite (a NaN error is rejected with the step cut five-fold, so it underflows within ~25 tries).
    const double min_step = 64 * std::numeric_limits<double>::epsilon() * std::max(std::abs(t0), std::abs(t1));
    TensorTuple dxdt, x_new, dxdt_new;
    f(x, dxdt, t0);
    double t = t0;
    double h = span / static_cast<double>(options.steps);
    std::int64_t attempts = 0;
    while ((t1 - t) * span > 0) {
      if (attempts++ == options.max_steps)
        throw IntegrationError("adaptive ODE solver '" + options.method + "' reached max_steps = " +
                               std::to_string(options.max_steps) + " at t = " + std::to_string(t) +
                               " of [" + std::to_string(t0) + ", " + std::to_string(t1) +
                               "]; raise max_steps or loosen rtol/atol");
      // The step that would reach t1, or leave less than min_step before it, is cut to end on t1.
      const bool last = (t + h - t1) * span >= 0 || std::abs(t1 - t - h) <= min_step;
      if (last) h = t1 - t;
      if (controlled.try_step(system, x, dxdt, t, x_new, dxdt_new, h) == odeint::success) {
        std::swap(x, x_new);
        std::swap(dxdt, dxdt_new);
        if (last) t = t1;
        ++stats.accepted_steps;
      } else {
        ++stats.rejected_steps;
        if (!(std::abs(h) > min_step))
          throw IntegrationError("adaptive ODE solver '" + options.method + "': step size underflow (h = " +
                                 std::to_string(h) + ") at t = " + std::to_string(t) +
                                 "; the vector field is too stiff or not finite there");
      }
    }
    detail::require_finite(x, t1);
  }
};

}  // namespace latflow::odes
