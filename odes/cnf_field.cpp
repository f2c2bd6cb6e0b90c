#include "odes/cnf_field.hpp"

#include <stdexcept>

#include <ATen/ATen.h>

namespace latflow::odes {

VectorField cnf_field(Dynamics& dynamics, std::int64_t& nfe) {
  return [&dynamics, &nfe](const TensorTuple& x, TensorTuple& dxdt, double t) {
    ++nfe;
    const at::Tensor& phi = x.parts[0];
    Velocity velocity = dynamics(t, phi);
    if (!velocity.v.sizes().equals(phi.sizes()) || velocity.divergence.dim() != 1 ||
        velocity.divergence.size(0) != phi.size(0))
      throw std::logic_error("Dynamics returned v of shape " + c10::str(velocity.v.sizes()) + " and divergence " +
                             c10::str(velocity.divergence.sizes()) + " for phi of shape " + c10::str(phi.sizes()) +
                             "; expected v shaped like phi and divergence [B]");
    dxdt.parts.resize(2);
    dxdt.parts[0] = std::move(velocity.v);
    dxdt.parts[1] = at::neg(velocity.divergence);
  };
}

}  // namespace latflow::odes
