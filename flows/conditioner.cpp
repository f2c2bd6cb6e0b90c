#include "flows/conditioner.hpp"

#include <cmath>

#include <torch/torch.h>

#include "core/error.hpp"
#include "flows/dense_net.hpp"

namespace latflow {

ConditionerImpl::ConditionerImpl(ConditionerOptions options) : options_(std::move(options)) {
  const auto& o = options_;
  const auto P = static_cast<std::size_t>(o.outputs());
  if (o.outputs() < 1 || o.reflection_order().size() != P || o.reflection_sign().size() != P)
    throw UserError("conditioner: outputs must be >= 1 with one reflection entry each; got " +
                    std::to_string(o.outputs()) + " outputs, " + std::to_string(o.reflection_order().size()) +
                    " order and " + std::to_string(o.reflection_sign().size()) + " sign entries");
  for (std::size_t i = 0; i < P; ++i) {
    const std::int64_t j = o.reflection_order()[i];
    const bool ok = j >= 0 && j < o.outputs() && o.reflection_order()[static_cast<std::size_t>(j)] ==
                                                       static_cast<std::int64_t>(i) &&
                    std::abs(o.reflection_sign()[i]) == 1.0 &&
                    o.reflection_sign()[static_cast<std::size_t>(j)] == o.reflection_sign()[i];
    if (!ok) throw UserError("conditioner: the Z2 reflection must be an involution (a signed swap of outputs)");
  }
  order_ = torch::tensor(o.reflection_order(), torch::kLong);
  sign_ = torch::tensor(o.reflection_sign(), torch::kDouble).view({1, o.outputs(), 1, 1});

  if (o.network() == "conv") {
    conv_ = register_module("net", ConvNet(ConvNetOptions(1, o.outputs())
                                               .hidden(o.hidden())
                                               .kernel_size(o.kernel_size())
                                               .activation(o.activation()),
                                           "conditioner"));
  } else if (o.network() == "dense") {
    if (o.T() < 2 || o.L() < 2 || o.T() % 2 != 0 || o.L() % 2 != 0)
      throw UserError("conditioner: a dense network is built for one lattice with even extents; got " +
                      std::to_string(o.T()) + "x" + std::to_string(o.L()));
    const std::int64_t half = o.T() * o.L() / 2;
    dense_ = register_module("dense", dense_net(half, o.outputs() * half, o.hidden(), o.activation(), "conditioner"));
  } else {
    throw UserError("conditioner: unknown network '" + o.network() + "'; known: \"conv\", \"dense\"");
  }
}

at::Tensor ConditionerImpl::raw(const at::Tensor& x, const at::Tensor& active) {
  if (conv_) return conv_->forward(x.unsqueeze(1));
  const std::int64_t B = x.size(0), T = x.size(1), L = x.size(2), P = options_.outputs();
  if (T != options_.T() || L != options_.L())
    throw UserError("conditioner: this dense network was built for the " + std::to_string(options_.T()) + "x" +
                    std::to_string(options_.L()) + " lattice and cannot run on " + std::to_string(T) + "x" +
                    std::to_string(L) + " (dense weights belong to one lattice; use model.conditioner = \"conv\")");
  const at::Tensor on = active.reshape({-1}).to(torch::kBool);
  const at::Tensor active_sites = on.nonzero().reshape({-1}), frozen_sites = (~on).nonzero().reshape({-1});
  if (active_sites.numel() != T * L / 2)
    throw UserError("conditioner: a dense network couples the two halves of a checkerboard; got a mask of " +
                    std::to_string(active_sites.numel()) + " active sites out of " + std::to_string(T * L));
  const at::Tensor theta = dense_->forward(x.reshape({B, -1}).index_select(1, frozen_sites)).view({B, P, -1});
  return torch::zeros({B, P, T * L}, x.options()).index_copy(2, active_sites, theta).view({B, P, T, L});
}

at::Tensor ConditionerImpl::forward(const at::Tensor& x, const at::Tensor& active) {
  if (!options_.z2()) return raw(x, active);
  const std::int64_t B = x.size(0);
  const at::Tensor out = raw(torch::cat({x, -x}), active);
  const at::Tensor reflected = out.narrow(0, B, B).index_select(1, order_.to(x.device())) *
                               sign_.to(x.options());
  return 0.5 * (out.narrow(0, 0, B) + reflected);
}

ConditionerOptions conditioner_options(const Config& card) {
  ConditionerOptions o;
  const std::int64_t width = card.get<std::int64_t>("model.hidden_channels");
  const std::int64_t depth = card.get<std::int64_t>("model.hidden_layers");
  if (depth < 0) throw UserError("model.hidden_layers must be >= 0; got " + std::to_string(depth));
  o.hidden(std::vector<std::int64_t>(static_cast<std::size_t>(depth), width));
  o.kernel_size(card.get<std::int64_t>("model.kernel_size"));
  o.activation(card.get<std::string>("model.activation"));
  o.z2(card.get<bool>("model.z2"));
  return o;
}

}  // namespace latflow
