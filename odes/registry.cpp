#include "odes/registry.hpp"

#include <boost/numeric/odeint/stepper/euler.hpp>
#include <boost/numeric/odeint/stepper/runge_kutta4.hpp>
#include <boost/numeric/odeint/stepper/runge_kutta_dopri5.hpp>

#include "odes/adjoint.hpp"
#include "odes/backprop.hpp"
#include "odes/odeint_steppers.hpp"

namespace latflow::odes {
namespace {

template <class T, class Base>
std::unique_ptr<Base> make() {
  return std::make_unique<T>();
}

}  // namespace

const Registry<std::unique_ptr<Stepper>>& stepper_registry() {
  namespace odeint = boost::numeric::odeint;
  static const auto registry = [] {
    Registry<std::unique_ptr<Stepper>> r("ODE solver");
    r.add("euler", "explicit Euler, order 1, fixed steps", make<FixedStep<odeint::euler>, Stepper>)
        .add("rk4", "classical Runge-Kutta, order 4, fixed steps", make<FixedStep<odeint::runge_kutta4>, Stepper>)
        .add("dopri5", "Dormand-Prince 5(4), adaptive steps by rtol/atol",
             make<ErrorControlled<odeint::runge_kutta_dopri5>, Stepper>);
    return r;
  }();
  return registry;
}

const Registry<std::unique_ptr<GradientMethod>>& gradient_method_registry() {
  static const auto registry = [] {
    Registry<std::unique_ptr<GradientMethod>> r("gradient method");
    r.add("backprop", "backpropagation through the solver: exact for the discrete solve, memory grows with steps",
          make<Backprop, GradientMethod>)
        .add("adjoint", "adjoint method (Chen et al. 2018): backward ODE solve, memory independent of steps",
             make<Adjoint, GradientMethod>);
    return r;
  }();
  return registry;
}

}  // namespace latflow::odes
