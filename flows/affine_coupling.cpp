#include "flows/affine_coupling.hpp"

#include <torch/torch.h>

namespace latflow {

namespace {
at::Tensor coordinate(std::int64_t n, const c10::TensorOptions& options) {
  return torch::arange(n, options.dtype(torch::kInt64));
}
}  // namespace

at::Tensor checkerboard_mask(std::int64_t T, std::int64_t L, std::int64_t parity, const c10::TensorOptions& options) {
  const at::Tensor sum = coordinate(T, options).unsqueeze(1) + coordinate(L, options).unsqueeze(0);
  return sum.remainder(2).eq(parity).to(options.dtype());
}

at::Tensor sublattice_mask(std::int64_t T, std::int64_t L, std::int64_t t_parity, std::int64_t x_parity,
                           const c10::TensorOptions& options) {
  const at::Tensor in_t = coordinate(T, options).remainder(2).eq(t_parity).unsqueeze(1);
  const at::Tensor in_x = coordinate(L, options).remainder(2).eq(x_parity).unsqueeze(0);
  return torch::logical_and(in_t, in_x).to(options.dtype());
}

ScaleShift scale_shift(ConditionerImpl& conditioner, const at::Tensor& x, const at::Tensor& active) {
  const at::Tensor theta = conditioner.forward(x, active);
  return {torch::tanh(theta.select(1, 0)), theta.select(1, 1)};
}

Density affine_coupling_step(const Density& d, const at::Tensor& active, ConditionerImpl& conditioner,
                             bool reverse) {
  const ScaleShift st = scale_shift(conditioner, d.phi * (1 - active), active);
  const at::Tensor s = st.s * active, t = st.t * active;
  const at::Tensor log_det = s.sum({1, 2});
  // Off the active sites s = t = 0, so the frozen half passes through unchanged (exactly: x e^0 + 0 = x).
  if (reverse) return {(d.phi - t) * torch::exp(-s), d.logq + log_det};
  return {d.phi * torch::exp(s) + t, d.logq - log_det};
}

}  // namespace latflow
