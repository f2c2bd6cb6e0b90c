#include "flows/dense_net.hpp"

#include <torch/torch.h>

#include "core/error.hpp"

namespace latflow {

void check_activation(const std::string& activation, const std::string& who) {
  if (activation != "leaky_relu" && activation != "tanh")
    throw UserError(who + ": unknown activation '" + activation + "'; known: \"leaky_relu\", \"tanh\"");
}

void push_activation(torch::nn::Sequential& net, const std::string& activation) {
  if (activation == "tanh") net->push_back(torch::nn::Tanh());
  else net->push_back(torch::nn::LeakyReLU());
}

torch::nn::Sequential dense_net(std::int64_t in, std::int64_t out, const std::vector<std::int64_t>& hidden,
                                const std::string& activation, const std::string& who) {
  check_activation(activation, who);
  if (in < 1 || out < 1) throw UserError(who + ": the network needs at least one input and one output");
  torch::nn::Sequential net;
  std::int64_t width = in;
  for (std::int64_t h : hidden) {
    if (h < 1) throw UserError(who + ": hidden widths must be >= 1; got " + std::to_string(h));
    net->push_back(torch::nn::Linear(width, h));
    push_activation(net, activation);
    width = h;
  }
  torch::nn::Linear last(width, out);
  torch::NoGradGuard no_grad;
  last->weight.zero_();
  last->bias.zero_();
  net->push_back(last);
  return net;
}

}  // namespace latflow
