#include "autoregressive/made.hpp"

#include <cmath>
#include <string>

#include <torch/torch.h>

#include "core/error.hpp"

namespace latflow {

namespace {
/// Ranks of the c + n inputs (y: 0, s_i: i + 1), repeated `width` times for a hidden layer.
at::Tensor ranks(std::int64_t n, std::int64_t c, std::int64_t width) {
  const at::Tensor one = torch::cat({torch::zeros({c}, torch::kInt64), torch::arange(1, n + 1, torch::kInt64)});
  return one.repeat({width});
}

/// [out, in]: 1 where a unit of rank `out` may read an input of rank `in`.
at::Tensor connections(const at::Tensor& out, const at::Tensor& in, bool first) {
  const at::Tensor a = in.unsqueeze(0), b = out.unsqueeze(1);
  const at::Tensor allowed = first ? torch::logical_or(a < b, a == 0) : a <= b;
  return allowed.to(torch::kFloat32);
}
}  // namespace

MadeImpl::MadeImpl(MadeOptions options) : options_(std::move(options)) {
  const std::int64_t n = options_.n(), c = options_.c();
  const MadeArchitecture& a = options_.architecture();
  if (n < 1) throw UserError("MADE: needs at least one spin; got n = " + std::to_string(n));
  if (c < 0) throw UserError("MADE: the number of conditioning inputs must be >= 0; got " + std::to_string(c));
  if (a.depth() < 1) throw UserError("MADE: depth (masked layers) must be >= 1; got " + std::to_string(a.depth()));
  if (a.width() < 1)
    throw UserError("MADE: width (hidden units per c + n) must be >= 1; got " + std::to_string(a.width()));

  const at::Tensor inputs = ranks(n, c, 1), hidden = ranks(n, c, a.width()), outputs = ranks(n, 0, 1);
  for (std::int64_t k = 0; k < a.depth(); ++k) {
    const at::Tensor& in = k == 0 ? inputs : hidden;
    const at::Tensor& out = k + 1 == a.depth() ? outputs : hidden;
    const at::Tensor mask = connections(out, in, k == 0);
    torch::nn::Linear layer(in.numel(), out.numel());
    {
      torch::NoGradGuard no_grad;
      layer->weight.mul_(mask * std::sqrt(static_cast<double>(mask.numel()) / mask.sum().item<double>()));
    }
    layers_.push_back(register_module("layer" + std::to_string(k), layer));
    masks_.push_back(register_buffer("mask" + std::to_string(k), mask));
    if (k > 0)
      prelus_.push_back(register_module(
          "prelu" + std::to_string(k),
          torch::nn::PReLU(torch::nn::PReLUOptions().num_parameters(in.numel()).init(a.prelu_init()))));
  }
}

std::vector<at::Tensor> MadeImpl::masked_weights() const {
  std::vector<at::Tensor> w;
  for (std::size_t k = 0; k < layers_.size(); ++k) w.push_back(layers_[k]->weight * masks_[k]);
  return w;
}

at::Tensor MadeImpl::run(const at::Tensor& s, const at::Tensor& y, const std::vector<at::Tensor>& weights) {
  TORCH_CHECK(s.dim() == 2 && s.size(1) == options_.n(), "MADE: spins must be [B, ", options_.n(), "]; got ",
              s.sizes());
  const bool y_fits = y.defined() && y.dim() == 2 && y.size(0) == s.size(0) && y.size(1) == options_.c();
  TORCH_CHECK(options_.c() == 0 || y_fits, "MADE: conditioning inputs must be [", s.size(0), ", ", options_.c(), "]");
  at::Tensor h = options_.c() > 0 ? torch::cat({y, s}, 1) : s;
  for (std::size_t k = 0; k < layers_.size(); ++k) {
    if (k > 0) h = prelus_[k - 1]->forward(h);
    h = torch::nn::functional::linear(h, weights[k], layers_[k]->bias);
  }
  return h;
}

at::Tensor MadeImpl::logits(const at::Tensor& s, const at::Tensor& y) { return run(s, y, masked_weights()); }

at::Tensor MadeImpl::log_prob(const at::Tensor& s, const at::Tensor& y) {
  return torch::log_sigmoid(s * logits(s, y)).sum(1);
}

SpinSample MadeImpl::sample(std::int64_t batch, const at::Tensor& y) {
  torch::NoGradGuard no_grad;
  const std::vector<at::Tensor> weights = masked_weights();
  const auto options = weights[0].options();
  // Spins not drawn yet stay 0; the masks keep them from every logit that is read.
  at::Tensor s = torch::zeros({batch, options_.n()}, options);
  at::Tensor logq = torch::zeros({batch}, options);
  for (std::int64_t i = 0; i < options_.n(); ++i) {
    const at::Tensor logit = run(s, y, weights).select(1, i);
    const at::Tensor si = (torch::rand({batch}, options) < torch::sigmoid(logit)).to(options.dtype()) * 2 - 1;
    s.select(1, i).copy_(si);
    logq += torch::log_sigmoid(si * logit);
  }
  return {s, logq};
}

}  // namespace latflow
