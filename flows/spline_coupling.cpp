#include "flows/spline_coupling.hpp"

#include <vector>

#include <torch/torch.h>

namespace latflow {

ConditionerOptions spline_conditioner_options(ConditionerOptions base, const RationalQuadraticSpline& spline) {
  const std::int64_t P = spline.parameters_per_element();
  return base.outputs(P)
      .reflection_order(spline.point_reflection())
      .reflection_sign(std::vector<double>(static_cast<std::size_t>(P), 1.0));
}

Density spline_coupling_step(const Density& d, const at::Tensor& active, ConditionerImpl& conditioner,
                             const RationalQuadraticSpline& spline, bool reverse) {
  const at::Tensor theta = conditioner.forward(d.phi * (1 - active), active).permute({0, 2, 3, 1});
  const ElementwiseResult r = reverse ? spline.inverse(d.phi, theta) : spline.forward(d.phi, theta);
  const at::Tensor on = active.to(torch::kBool);
  // The spline runs on every site and is kept on the active ones; the frozen half passes through bit for bit.
  // forward: log q(y) = log q(x) - sum log f'(x); reverse: r.log_derivative is already -log f'(x).
  return {torch::where(on, r.y, d.phi), d.logq - (r.log_derivative * active).sum({1, 2})};
}

}  // namespace latflow
