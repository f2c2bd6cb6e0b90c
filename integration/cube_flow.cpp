#include "integration/cube_flow.hpp"

#include <torch/torch.h>

#include "core/error.hpp"
#include "core/text.hpp"
#include "flows/dense_net.hpp"
#include "flows/elementwise/registry.hpp"
#include "integration/coupling_masks.hpp"

namespace latflow {

std::vector<std::string> cube_transforms() {
  std::vector<std::string> out;
  for (const auto& e : elementwise_registry().entries())
    if (e.build(ElementwiseOptions())->domain().kind == Domain::Kind::interval) out.push_back(e.name);
  return out;
}

CubeCouplingImpl::CubeCouplingImpl(std::int64_t dimension, std::vector<std::int64_t> active, ElementwisePtr transform,
                                   std::int64_t hidden_width, std::int64_t hidden_layers)
    : transform_(std::move(transform)), n_active_(static_cast<std::int64_t>(active.size())) {
  std::vector<std::int64_t> passive;
  for (std::int64_t i = 0, a = 0; i < dimension; ++i) {
    if (a < n_active_ && active[static_cast<std::size_t>(a)] == i)
      ++a;
    else
      passive.push_back(i);
  }
  // Plain members, not buffers: Module::to(dtype) would turn registered index tensors into floats.
  active_ = torch::tensor(active, torch::kLong);
  passive_ = torch::tensor(passive, torch::kLong);
  // A cell that transforms every coordinate reads a constant input: its output is then learnt through biases.
  const std::int64_t in = std::max<std::int64_t>(1, static_cast<std::int64_t>(passive.size()));
  const std::int64_t out = n_active_ * transform_->parameters_per_element();
  net_ = dense_net(in, out, std::vector<std::int64_t>(static_cast<std::size_t>(hidden_layers + 1), hidden_width),
                   "leaky_relu", "cube flow");
  register_module("net", net_);
}

Density CubeCouplingImpl::run(const Density& d, bool reverse) {
  const at::Tensor& x = d.phi;
  const std::int64_t B = x.size(0);
  const at::Tensor active = active_.to(x.device()), passive = passive_.to(x.device());
  const at::Tensor input = passive.numel() > 0 ? 2 * x.index_select(1, passive) - 1 : torch::zeros({B, 1}, x.options());
  const at::Tensor params = net_->forward(input).view({B, n_active_, transform_->parameters_per_element()});
  const at::Tensor xa = x.index_select(1, active);
  const ElementwiseResult r = reverse ? transform_->inverse(xa, params) : transform_->forward(xa, params);
  // forward: log q(y) = log q(x) - sum log h'(x); reverse: r.log_derivative is already -log h'(x).
  return {x.index_copy(1, active, r.y), d.logq - r.log_derivative.sum(1)};
}

CubeFlowImpl::CubeFlowImpl(CubeFlowOptions options) : options_(std::move(options)) {
  const auto& o = options_;
  if (o.dimension() < 1) throw UserError("cube flow: the dimension must be >= 1; got " + std::to_string(o.dimension()));
  if (o.bins() < 1) throw UserError("cube flow: bins must be >= 1; got " + std::to_string(o.bins()));
  if (o.hidden_width() < 1 || o.hidden_layers() < 0)
    throw UserError("cube flow: hidden_width must be >= 1 and hidden_layers >= 0; got " +
                    std::to_string(o.hidden_width()) + " and " + std::to_string(o.hidden_layers()));
  const ElementwisePtr h = elementwise_registry().create(o.transform(), ElementwiseOptions().bins(o.bins()));
  if (h->domain().kind != Domain::Kind::interval)
    throw UserError("cube flow: transform '" + o.transform() + "' does not act on an interval; allowed: " +
                    text::quoted_list(cube_transforms()));
  const auto masks = coupling_masks(o.dimension(), o.masking(), o.repetitions());
  for (std::size_t i = 0; i < masks.size(); ++i)
    cells_.push_back(register_module("cell" + std::to_string(i),
                                     CubeCoupling(o.dimension(), masks[i], h, o.hidden_width(), o.hidden_layers())));
  probe_ = register_buffer("probe", torch::empty({0}, torch::kDouble));
}

Density CubeFlowImpl::sample(std::int64_t n) {
  Density d{torch::rand({n, options_.dimension()}, tensor_options()), torch::zeros({n}, tensor_options())};
  for (auto& c : cells_) d = c->forward(d);
  return d;
}

at::Tensor CubeFlowImpl::log_prob(const at::Tensor& x) {
  Density d{x, torch::zeros({x.size(0)}, x.options())};
  for (auto it = cells_.rbegin(); it != cells_.rend(); ++it) d = (*it)->reverse(d);
  return -d.logq;
}

std::int64_t CubeFlowImpl::parameter_count() const {
  std::int64_t n = 0;
  for (const auto& p : parameters()) n += p.numel();
  return n;
}

}  // namespace latflow
