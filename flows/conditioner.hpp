#pragma once
// The conditioner of an affine coupling: a small convolutional network that reads the frozen sites of a
// configuration and returns, at every site, a log-scale s and a shift t (the s, t network of Albergo,
// Kanwar & Shanahan 2019, arXiv 1904.12072, in the convolutional form of the tutorial, arXiv 2101.08176):
//
//   (s_raw, t) = CNN(x),   s = tanh(s_raw),   CNN: 1 -> hidden[0] -> ... -> 2 channels, circular padding
//
// The weights are those of translation-invariant kernels, so one conditioner runs on every lattice size.
// tanh bounds the scale per coupling to [1/e, e] (the tutorial also puts a final tanh on t; here t is left
// unbounded, as in RealNVP).
//
// Z2 (`z2 = true`): the network is symmetrised, s from its even part and t from its odd part,
//
//   s(x) = tanh([s_raw(x) + s_raw(-x)] / 2),   t(x) = [t(x) - t(-x)] / 2,
//
// so s(-x) = s(x) and t(-x) = -t(x) exactly, for any activation and with biases (the network runs once on
// the batch [x; -x]). An affine coupling y = x e^s + t built on it commutes with phi -> -phi and keeps its
// log-det, so a flow of such couplings on a Z2-symmetric base distribution has a Z2-symmetric density.
//
// The network is a ConvNet (flows/conv_net.hpp) whose last convolution starts at zero, so s = t = 0 and
// every coupling starts as the identity: training starts from the base distribution.
#include <cstdint>
#include <string>
#include <vector>

#include <torch/arg.h>
#include <torch/nn/module.h>
#include <torch/nn/pimpl.h>

#include "core/config.hpp"
#include "flows/conv_net.hpp"

namespace latflow {

struct ConditionerOptions {
  /// Channels of the hidden convolutions (the tutorial's 1 -> 8 -> 8 -> 2 is {8, 8}); may be empty.
  TORCH_ARG(std::vector<std::int64_t>, hidden) = {8, 8};
  /// Odd kernel extent of every convolution.
  TORCH_ARG(std::int64_t, kernel_size) = 3;
  /// "leaky_relu" (slope 0.01) or "tanh", after every hidden convolution.
  TORCH_ARG(std::string, activation) = "leaky_relu";
  /// Symmetrise so that s is even and t is odd under x -> -x.
  TORCH_ARG(bool, z2) = false;
};

/// Per-site log-scale and shift, each [B, T, L].
struct ScaleShift {
  at::Tensor s;
  at::Tensor t;
};

class ConditionerImpl : public torch::nn::Module {
 public:
  /// Throws UserError for a kernel that is even or < 1, a hidden width < 1, or an unknown activation.
  explicit ConditionerImpl(ConditionerOptions options);

  /// s and t at every site for the (masked) configurations x [B, T, L]. Throws UserError when the kernel
  /// wraps around the periodic lattice more than once (kernel_size / 2 > T or L).
  ScaleShift forward(const at::Tensor& x);

  const ConditionerOptions& options() const { return options_; }

 private:
  ConditionerOptions options_;
  ConvNet net_{nullptr};
};

TORCH_MODULE(Conditioner);

/// The conditioner settings of a run card: model.hidden_channels, model.hidden_layers,
/// model.kernel_size, model.activation, model.z2.
ConditionerOptions conditioner_options(const Config& card);

}  // namespace latflow
