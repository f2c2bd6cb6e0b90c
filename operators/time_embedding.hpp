#pragma once
// Time dependence of a neural operator's kernel coefficients (Gerdes et al., arXiv 2207.00283,
// `KernelFourier` + `time_superpos`): each coefficient is a truncated Fourier series in t,
//
//   c_{fj}(t) = sum_m W_{fjm} tau_m(t),     tau(t) = [1, sin 2 pi t, cos 2 pi t, ..., sin 2 pi M t, cos 2 pi M t],
//
// smooth on [0, 1] with 2M+1 terms. W starts at zero, so an operator built on it is exactly v == 0 at
// initialisation: the CNF starts as the identity map from the prior (Gerdes et al.'s zero init).
#include <cstdint>
#include <utility>
#include <vector>

#include <ATen/core/Tensor.h>
#include <c10/core/TensorOptions.h>
#include <torch/arg.h>
#include <torch/nn/module.h>
#include <torch/nn/pimpl.h>

namespace latflow {

struct TimeEmbeddingOptions {
  TimeEmbeddingOptions(std::vector<std::int64_t> shape, std::int64_t time_modes)
      : shape_(std::move(shape)), time_modes_(time_modes) {}
  /// The shape of c(t), e.g. {channels, kernel_modes}.
  TORCH_ARG(std::vector<std::int64_t>, shape);
  /// M: the highest Fourier mode in t.
  TORCH_ARG(std::int64_t, time_modes);
};

class TimeEmbeddingImpl : public torch::nn::Module {
 public:
  /// Throws UserError unless time_modes >= 1.
  explicit TimeEmbeddingImpl(const TimeEmbeddingOptions& options);

  /// c(t) with the shape of the options, in the dtype and device of the weights.
  at::Tensor forward(double t);

  TimeEmbeddingOptions options;
  /// [shape..., 2M+1] the Fourier weights W (zero at initialisation).
  at::Tensor weight;
};

TORCH_MODULE(TimeEmbedding);

}  // namespace latflow
