#include "flows/gauge_coupling.hpp"

#include <cmath>

#include <torch/torch.h>

#include "core/error.hpp"
#include "flows/elementwise/registry.hpp"
#include "lattice/u1_gauge_field.hpp"

namespace latflow {

namespace {

constexpr double kTwoPi = 2 * M_PI;

void require_multiple_of_4(std::int64_t T, std::int64_t L) {
  if (T % 4 != 0 || L % 4 != 0 || T < 4 || L < 4)
    throw UserError("gauge-equivariant coupling flow: T and L must be multiples of 4 (its masks repeat every 4 "
                    "sites); got a " + std::to_string(T) + "x" + std::to_string(L) + " lattice");
}

}  // namespace

GaugeMasks gauge_masks(std::int64_t T, std::int64_t L, std::int64_t mu, std::int64_t offset,
                       const c10::TensorOptions& options) {
  require_multiple_of_4(T, L);
  const auto index = options.dtype(torch::kLong);
  const at::Tensor t = torch::arange(T, index).view({T, 1}).expand({T, L});
  const at::Tensor x = torch::arange(L, index).view({1, L}).expand({T, L});
  const at::Tensor along = mu == 0 ? t : x, across = mu == 0 ? x : t;
  const at::Tensor active =
      torch::remainder(along - offset - 2 * torch::remainder(across, 2), 4).eq(0).to(options.dtype());
  GaugeMasks m;
  m.active_plaquettes = active;
  m.frozen_plaquettes = torch::remainder(along - offset, 2).eq(1).to(options.dtype());
  m.active_links = torch::zeros({2, T, L}, options);
  m.active_links.select(0, mu).copy_(active);
  return m;
}

GaugeCouplingLayerImpl::GaugeCouplingLayerImpl(std::int64_t mu, std::int64_t offset, const GaugeCouplingOptions& o)
    : mu_(mu), offset_(offset), loops_(o.loops()) {
  transform_ = elementwise_registry().create(o.transform(), ElementwiseOptions().bins(o.bins()));
  if (transform_->domain().kind != Domain::Kind::circle)
    throw UserError("gauge-equivariant coupling flow: model.transform = \"" + o.transform() +
                    "\" is not a transform of the circle; allowed: \"rq_spline_circle\", \"ncp_mixture\"");
  const std::int64_t in = loops_ ? 4 : 2;
  net_ = register_module("net", ConvNet(ConvNetOptions(in, transform_->parameters_per_element())
                                            .hidden(o.hidden())
                                            .kernel_size(o.kernel_size())
                                            .dilations(o.dilations())
                                            .activation(o.activation()),
                                        "gauge coupling conditioner"));
}

at::Tensor GaugeCouplingLayerImpl::conditioner_input(const at::Tensor& theta, const GaugeMasks& m) const {
  const at::Tensor p = u1::plaquette_angles(theta);
  std::vector<at::Tensor> channels = {torch::cos(p) * m.frozen_plaquettes, torch::sin(p) * m.frozen_plaquettes};
  if (loops_) {
    // The 2x1 loops with their long side across the masks' direction: those at frozen columns hold no
    // active link.
    const at::Tensor r = u1::rectangle_angles(theta).select(1, 1 - mu_);
    channels.push_back(torch::cos(r) * m.frozen_plaquettes);
    channels.push_back(torch::sin(r) * m.frozen_plaquettes);
  }
  return torch::stack(channels, 1);
}

Density GaugeCouplingLayerImpl::run(const Density& d, bool reverse) {
  u1::require_links("gauge-equivariant coupling flow", d.phi);
  const std::int64_t T = d.phi.size(2), L = d.phi.size(3);
  const GaugeMasks m = gauge_masks(T, L, mu_, offset_, d.phi.options());
  const at::Tensor params = net_->forward(conditioner_input(d.phi, m)).permute({0, 2, 3, 1});
  const at::Tensor p = torch::remainder(u1::plaquette_angles(d.phi), kTwoPi);
  const ElementwiseResult r = reverse ? transform_->inverse(p, params) : transform_->forward(p, params);
  // The change of each active plaquette, moved onto its active link (s_0 = +1, s_1 = -1).
  const at::Tensor delta = (r.y - p) * m.active_plaquettes * (mu_ == 0 ? 1.0 : -1.0);
  const at::Tensor theta = d.phi + m.active_links * delta.unsqueeze(1);
  const at::Tensor log_det = (r.log_derivative * m.active_plaquettes).flatten(1).sum(1);
  // forward: log q(y) = log q(x) - sum log f'; reverse: r.log_derivative is already -log f'(x).
  return {theta, d.logq - log_det};
}

Density GaugeCouplingLayerImpl::forward(const Density& x) { return run(x, false); }
Density GaugeCouplingLayerImpl::reverse(const Density& y) { return run(y, true); }

namespace {
std::vector<TransformPtr> gauge_layers(const GaugeCouplingOptions& o) {
  if (o.layers() < 1)
    throw UserError("gauge-equivariant coupling flow: model.coupling_layers must be >= 1; got " +
                    std::to_string(o.layers()));
  if (o.bins() < 1)
    throw UserError("gauge-equivariant coupling flow: model.bins must be >= 1; got " + std::to_string(o.bins()));
  std::vector<TransformPtr> layers;
  for (std::int64_t i = 0; i < o.layers(); ++i) layers.push_back(GaugeCouplingLayer((i / 4) % 2, i % 4, o).ptr());
  return layers;
}
}  // namespace

GaugeCouplingImpl::GaugeCouplingImpl(GaugeCouplingOptions options)
    : ComposedTransformImpl(gauge_layers(options)), options_(std::move(options)) {}

GaugeCouplingOptions gauge_coupling_options(const Config& c) {
  const std::int64_t L = c.get<std::int64_t>("lattice.L"), T = c.get<std::int64_t>("lattice.T");
  if (L % 4 != 0 || (T != 0 && T % 4 != 0))
    throw UserError("model.type = \"gauge_coupling\" needs lattice.L and lattice.T multiples of 4 (its masks repeat "
                    "every 4 sites); got lattice.L = " + std::to_string(L) +
                    (T != 0 ? ", lattice.T = " + std::to_string(T) : std::string()));
  GaugeCouplingOptions o;
  o.layers(c.get<std::int64_t>("model.coupling_layers"));
  o.transform(c.get<std::string>("model.transform"));
  o.bins(c.get<std::int64_t>("model.bins"));
  o.loops(c.get<std::string>("model.loops") == "2x1");
  const std::int64_t depth = c.get<std::int64_t>("model.hidden_layers");
  o.hidden(std::vector<std::int64_t>(static_cast<std::size_t>(depth), c.get<std::int64_t>("model.hidden_channels")));
  o.kernel_size(c.get<std::int64_t>("model.kernel_size"));
  std::vector<std::int64_t> dilations;
  if (c.get<bool>("model.dilated"))
    for (std::int64_t i = 0; i <= depth; ++i) dilations.push_back(i + 1);
  o.dilations(dilations);
  o.activation(c.get<std::string>("model.activation"));
  return o;
}

}  // namespace latflow
