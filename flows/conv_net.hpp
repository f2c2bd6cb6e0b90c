#pragma once
// The convolutional network of every coupling layer's conditioner: circular (periodic) convolutions of
// odd kernel size with optional dilations, so that it is translation-equivariant on the torus and its
// weights do not depend on the lattice size:
//
//   in -> hidden[0] -> ... -> hidden[n-1] -> out channels,   activation after every hidden convolution,
//
// convolution i having dilation dilations[i] (1 when the list is shorter; Białas et al.'s Schwinger flows
// use 1, 2, 3, arXiv 2308.13294), padded circularly by dilation * (kernel_size / 2). The last convolution
// starts at zero, so the network's output is 0 at initialisation: a coupling layer built on it starts as the
// identity (every elementwise transform of flows/elementwise/ is the identity at zero raw parameters, and
// the affine coupling at s = t = 0).
#include <cstdint>
#include <string>
#include <vector>

#include <ATen/core/Tensor.h>
#include <torch/arg.h>
#include <torch/nn/module.h>
#include <torch/nn/modules/container/sequential.h>
#include <torch/nn/pimpl.h>

namespace latflow {

struct ConvNetOptions {
  ConvNetOptions(std::int64_t in, std::int64_t out) : in_channels_(in), out_channels_(out) {}
  TORCH_ARG(std::int64_t, in_channels);
  TORCH_ARG(std::int64_t, out_channels);
  TORCH_ARG(std::vector<std::int64_t>, hidden) = {8, 8};
  /// Odd kernel extent of every convolution.
  TORCH_ARG(std::int64_t, kernel_size) = 3;
  /// Dilation of each convolution in order (missing entries: 1); each >= 1.
  TORCH_ARG(std::vector<std::int64_t>, dilations) = {};
  /// "leaky_relu" (slope 0.01) or "tanh".
  TORCH_ARG(std::string, activation) = "leaky_relu";
};

class ConvNetImpl : public torch::nn::Module {
 public:
  /// Throws UserError (naming `who`, e.g. "conditioner") for an even or non-positive kernel, a width or
  /// dilation < 1, or an unknown activation.
  ConvNetImpl(const ConvNetOptions& options, const std::string& who);

  /// x [B, in, T, L] -> [B, out, T, L]. UserError when the kernel's reach wraps around the lattice more
  /// than once (it would see a site twice).
  at::Tensor forward(const at::Tensor& x);

  const ConvNetOptions& options() const { return options_; }

 private:
  ConvNetOptions options_;
  std::string who_;
  std::int64_t reach_ = 0;  ///< the largest dilation * (kernel_size / 2)
  torch::nn::Sequential net_;
};

TORCH_MODULE(ConvNet);

}  // namespace latflow
