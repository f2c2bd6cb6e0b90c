#include "flows/conditioner.hpp"

#include <torch/torch.h>

#include "core/error.hpp"

namespace latflow {

ConditionerImpl::ConditionerImpl(ConditionerOptions options) : options_(std::move(options)) {
  const std::int64_t k = options_.kernel_size();
  if (k < 1 || k % 2 == 0)
    throw UserError("conditioner: kernel_size must be odd and >= 1 (so a convolution keeps the lattice shape); got " +
                    std::to_string(k));
  const std::string& act = options_.activation();
  if (act != "leaky_relu" && act != "tanh")
    throw UserError("conditioner: unknown activation '" + act + "'; known: \"leaky_relu\", \"tanh\"");
  for (std::int64_t h : options_.hidden())
    if (h < 1) throw UserError("conditioner: hidden channel counts must be >= 1; got " + std::to_string(h));

  const auto conv = [k](std::int64_t in, std::int64_t out) {
    return torch::nn::Conv2d(
        torch::nn::Conv2dOptions(in, out, k).padding(k / 2).padding_mode(torch::kCircular));
  };
  std::int64_t in = 1;
  for (std::int64_t h : options_.hidden()) {
    net_->push_back(conv(in, h));
    if (act == "tanh") net_->push_back(torch::nn::Tanh());
    else net_->push_back(torch::nn::LeakyReLU());
    in = h;
  }
  torch::nn::Conv2d last = conv(in, 2);
  torch::NoGradGuard no_grad;
  last->weight.zero_();
  last->bias.zero_();
  net_->push_back(last);
  register_module("net", net_);
}

ScaleShift ConditionerImpl::forward(const at::Tensor& x) {
  const std::int64_t reach = options_.kernel_size() / 2;
  if (reach > x.size(-2) || reach > x.size(-1))
    throw UserError("conditioner: kernel_size " + std::to_string(options_.kernel_size()) +
                    " wraps around a " + std::to_string(x.size(-2)) + "x" + std::to_string(x.size(-1)) +
                    " lattice more than once; use kernel_size <= 2 * extent + 1");
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
