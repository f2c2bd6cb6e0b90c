#include "flows/coupling_flow.hpp"

#include <torch/torch.h>

#include "core/error.hpp"
#include "flows/affine_coupling.hpp"
#include "flows/spline_coupling.hpp"
#include "lattice/registry.hpp"

namespace latflow {

CouplingFlowImpl::CouplingFlowImpl(CouplingFlowOptions options) : options_(std::move(options)) {
  const auto& o = options_;
  if (o.layers() < 0 || o.spline_layers() < 0 || o.layers() + o.spline_layers() < 1)
    throw UserError("coupling flow: needs layers >= 0 and spline_layers >= 0, at least one in all; got " +
                    std::to_string(o.layers()) + " and " + std::to_string(o.spline_layers()));
  for (std::int64_t i = 0; i < o.layers(); ++i)
    affine_.push_back(register_module("layer" + std::to_string(i), Conditioner(o.conditioner())));
  if (o.spline_layers() > 0) {
    spline_map_ = std::make_shared<const RationalQuadraticSpline>(RationalQuadraticSpline::Kind::real_line, o.spline());
    const ConditionerOptions c = spline_conditioner_options(o.conditioner(), *spline_map_);
    for (std::int64_t j = 0; j < o.spline_layers(); ++j)
      spline_.push_back(register_module("spline" + std::to_string(j), Conditioner(c)));
  }
  if (o.rescale()) log_scale_ = register_parameter("log_scale", torch::zeros({}));
}

Density CouplingFlowImpl::run(const Density& d, bool reverse) {
  if (d.phi.dim() != 3)
    throw UserError("coupling flow: configurations must be [B, T, L]; got " + std::to_string(d.phi.dim()) +
                    " dimensions");
  const std::int64_t T = d.phi.size(1), L = d.phi.size(2);
  if (T % 2 != 0 || L % 2 != 0)
    throw UserError("coupling flow: the checkerboard needs even lattice extents; got " + std::to_string(T) + "x" +
                    std::to_string(L));
  const at::Tensor odd = checkerboard_mask(T, L, 1, d.phi.options());
  const at::Tensor even = 1 - odd;
  const auto n_affine = static_cast<std::int64_t>(affine_.size());
  const std::int64_t n = n_affine + static_cast<std::int64_t>(spline_.size());
  const auto layer = [&](const Density& in, std::int64_t k) {
    const at::Tensor& active = k % 2 == 0 ? odd : even;
    if (k < n_affine) return affine_coupling_step(in, active, *affine_[k], reverse);
    return spline_coupling_step(in, active, *spline_[k - n_affine], *spline_map_, reverse);
  };
  // log q(e^a x) = log q(x) - V a.
  const auto rescaled = [&](const Density& in, double direction) -> Density {
    if (!log_scale_.defined()) return in;
    const at::Tensor a = direction * log_scale_;
    return {in.phi * torch::exp(a), in.logq - static_cast<double>(T * L) * a};
  };
  if (reverse) {
    Density out = rescaled(d, -1.0);
    for (std::int64_t k = n - 1; k >= 0; --k) out = layer(out, k);
    return out;
  }
  Density out = d;
  for (std::int64_t k = 0; k < n; ++k) out = layer(out, k);
  return rescaled(out, 1.0);
}

Density CouplingFlowImpl::forward(const Density& x) { return run(x, false); }
Density CouplingFlowImpl::reverse(const Density& y) { return run(y, true); }

CouplingFlowOptions coupling_flow_options(const Config& card) {
  CouplingFlowOptions o;
  o.layers(card.get<std::int64_t>("model.coupling_layers"));
  o.spline_layers(card.get<std::int64_t>("model.spline_layers"));
  o.spline(ElementwiseOptions()
               .bins(card.get<std::int64_t>("model.bins"))
               .bound(card.get<double>("model.spline_bound")));
  o.rescale(card.get<bool>("model.rescale"));
  ConditionerOptions c = conditioner_options(card);
  c.network(card.get<std::string>("model.conditioner"));
  if (c.network() == "dense") {
    const Lattice lattice = lattice_of(card);
    c.T(lattice.T).L(lattice.L);
  }
  o.conditioner(c);
  return o;
}

}  // namespace latflow
