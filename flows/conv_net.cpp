#include "flows/conv_net.hpp"

#include <torch/torch.h>

#include "core/error.hpp"
#include "flows/dense_net.hpp"

namespace latflow {

ConvNetImpl::ConvNetImpl(const ConvNetOptions& options, const std::string& who) : options_(options), who_(who) {
  const std::int64_t k = options_.kernel_size();
  if (k < 1 || k % 2 == 0)
    throw UserError(who + ": kernel_size must be odd and >= 1 (so a convolution keeps the lattice shape); got " +
                    std::to_string(k));
  check_activation(options_.activation(), who);
  for (std::int64_t h : options_.hidden())
    if (h < 1) throw UserError(who + ": hidden channel counts must be >= 1; got " + std::to_string(h));
  for (std::int64_t d : options_.dilations())
    if (d < 1) throw UserError(who + ": dilations must be >= 1; got " + std::to_string(d));
  if (options_.in_channels() < 1 || options_.out_channels() < 1)
    throw UserError(who + ": the network needs at least one input and one output channel");

  std::vector<std::int64_t> widths = {options_.in_channels()};
  widths.insert(widths.end(), options_.hidden().begin(), options_.hidden().end());
  widths.push_back(options_.out_channels());
  for (std::size_t i = 0; i + 1 < widths.size(); ++i) {
    const std::int64_t d = i < options_.dilations().size() ? options_.dilations()[i] : 1;
    reach_ = std::max(reach_, d * (k / 2));
    torch::nn::Conv2d conv(torch::nn::Conv2dOptions(widths[i], widths[i + 1], k)
                               .dilation(d)
                               .padding(d * (k / 2))
                               .padding_mode(torch::kCircular));
    net_->push_back(conv);
    if (i + 2 < widths.size()) {
      push_activation(net_, options_.activation());
    } else {
      torch::NoGradGuard no_grad;
      conv->weight.zero_();
      conv->bias.zero_();
    }
  }
  register_module("net", net_);
}

at::Tensor ConvNetImpl::forward(const at::Tensor& x) {
  if (reach_ > x.size(-2) || reach_ > x.size(-1))
    throw UserError(who_ + ": the convolutions reach " + std::to_string(reach_) + " sites, which wraps around a " +
                    std::to_string(x.size(-2)) + "x" + std::to_string(x.size(-1)) +
                    " lattice more than once; use a smaller kernel_size or dilation");
  return net_->forward(x);
}

}  // namespace latflow
