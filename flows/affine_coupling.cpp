#include "flows/affine_coupling.hpp"

#include <torch/torch.h>

#include "core/error.hpp"

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

Density affine_coupling_step(const Density& d, const at::Tensor& active, ConditionerImpl& conditioner,
                             bool reverse) {
  const ScaleShift st = conditioner.forward(d.phi * (1 - active));
  const at::Tensor s = st.s * active, t = st.t * active;
  const at::Tensor log_det = s.sum({1, 2});
  // Off the active sites s = t = 0, so the frozen half passes through unchanged (exactly: x e^0 + 0 = x).
  if (reverse) return {(d.phi - t) * torch::exp(-s), d.logq + log_det};
  return {d.phi * torch::exp(s) + t, d.logq - log_det};
}

AffineCouplingImpl::AffineCouplingImpl(AffineCouplingOptions options) : options_(std::move(options)) {
  if (options_.layers() < 1)
    throw UserError("affine coupling: layers must be >= 1; got " + std::to_string(options_.layers()));
  for (std::int64_t i = 0; i < options_.layers(); ++i)
    layers_.push_back(register_module("layer" + std::to_string(i), Conditioner(options_.conditioner())));
}

Density AffineCouplingImpl::run(const Density& d, bool reverse) {
  if (d.phi.dim() != 3)
    throw UserError("affine coupling: configurations must be [B, T, L]; got " + std::to_string(d.phi.dim()) +
                    " dimensions");
  const std::int64_t T = d.phi.size(1), L = d.phi.size(2);
  if (T % 2 != 0 || L % 2 != 0)
    throw UserError("affine coupling: the checkerboard needs even lattice extents; got " + std::to_string(T) + "x" +
                    std::to_string(L));
  const at::Tensor odd = checkerboard_mask(T, L, 1, d.phi.options());
  const at::Tensor even = 1 - odd;
  Density out = d;
  const auto n = static_cast<std::int64_t>(layers_.size());
  for (std::int64_t k = 0; k < n; ++k) {
    const std::int64_t i = reverse ? n - 1 - k : k;
    out = affine_coupling_step(out, i % 2 == 0 ? odd : even, *layers_[i], reverse);
  }
  return out;
}

Density AffineCouplingImpl::forward(const Density& x) { return run(x, false); }
Density AffineCouplingImpl::reverse(const Density& y) { return run(y, true); }

AffineCouplingOptions affine_coupling_options(const Config& card) {
  AffineCouplingOptions o;
  o.layers(card.get<std::int64_t>("model.coupling_layers"));
  o.conditioner(conditioner_options(card));
  return o;
}

}  // namespace latflow
