#include "flows/conditioner.hpp"

#include <torch/torch.h>

#include "core/error.hpp"

namespace latflow {

ConditionerImpl::ConditionerImpl(ConditionerOptions options) : options_(std::move(options)) {
  net_ = register_module("net", ConvNet(ConvNetOptions(1, 2)
                                            .hidden(options_.hidden())
                                            .kernel_size(options_.kernel_size())
                                            .activation(options_.activation()),
                                        "conditioner"));
}

ScaleShift ConditionerImpl::forward(const at::Tensor& x) {
  if (!options_.z2()) {
    const at::Tensor out = net_->forward(x.unsqueeze(1));
    return {torch::tanh(out.select(1, 0)), out.select(1, 1)};
  }
  const std::int64_t B = x.size(0);
  const at::Tensor out = net_->forward(torch::cat({x, -x}).unsqueeze(1));
  const at::Tensor plus = out.narrow(0, 0, B), minus = out.narrow(0, B, B);
  return {torch::tanh(0.5 * (plus.select(1, 0) + minus.select(1, 0))),
          0.5 * (plus.select(1, 1) - minus.select(1, 1))};
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
