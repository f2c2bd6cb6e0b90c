#pragma once
// The conditioner of a coupling layer on the lattice: a network that reads the frozen sites of a
// configuration and returns P raw parameters at every site, those of the map the coupling applies to the
// active sites (P = 2, a log-scale and a shift, for the affine couplings of Albergo, Kanwar & Shanahan 2019,
// arXiv 1904.12072; P = 3K - 1 for a rational-quadratic spline of K bins, Durkan et al. 2019, arXiv 1906.04032).
// Two networks:
//
//   conv    a ConvNet (flows/conv_net.hpp) 1 -> hidden... -> P channels with circular padding, as in the tutorial
//           (arXiv 2101.08176): translation-invariant kernels, so one conditioner runs on every lattice size;
//   dense   fully connected from the V/2 frozen sites of a checkerboard to P values at each of the V/2 active
//           sites of one T x L lattice (flows/dense_net.hpp), as in Albergo et al. 2019 and the dense couplings of
//           anvil and torchlft (Del Debbio, Marsh Rossney & Wilson, arXiv 2105.12481, 2112.15532). Its weights
//           grow like V^2 at fixed width and belong to that lattice: another lattice is a UserError.
//
// Z2 (`z2 = true`): the network is symmetrised with the reflection R of its parameters that maps the
// coupling's map to its point reflection (f(-x; R theta) = -f(x; R-free theta), see the couplings' headers),
//
//   theta(x) = [raw(x) + R raw(-x)] / 2,     R = diag(sign) permutation(order),  R^2 = 1,
//
// so theta(-x) = R theta(x) exactly, for any activation and with biases (the network runs once on the batch
// [x; -x]). For the affine coupling, R = diag(1, -1): s even and t odd in x.
//
// The last layer starts at zero, so theta = 0 at initialisation, where every coupling is the identity.
#include <cstdint>
#include <string>
#include <vector>

#include <torch/arg.h>
#include <torch/nn/module.h>
#include <torch/nn/modules/container/sequential.h>
#include <torch/nn/pimpl.h>

#include "core/config.hpp"
#include "flows/conv_net.hpp"

namespace latflow {

struct ConditionerOptions {
  /// Channels of the hidden convolutions, or widths of the hidden dense layers (the tutorial's 1 -> 8 -> 8 -> 2
  /// is {8, 8}); may be empty.
  TORCH_ARG(std::vector<std::int64_t>, hidden) = {8, 8};
  /// Odd kernel extent of every convolution ("conv" only).
  TORCH_ARG(std::int64_t, kernel_size) = 3;
  /// "leaky_relu" (slope 0.01) or "tanh", after every hidden layer.
  TORCH_ARG(std::string, activation) = "leaky_relu";
  /// Symmetrise with the reflection below.
  TORCH_ARG(bool, z2) = false;
  /// "conv" or "dense".
  TORCH_ARG(std::string, network) = "conv";
  /// "dense" only: the lattice it is built for (T, L even).
  TORCH_ARG(std::int64_t, T) = 0;
  TORCH_ARG(std::int64_t, L) = 0;
  /// P, the raw parameters per site, and the Z2 reflection R of them: component i of R theta is
  /// reflection_sign[i] theta[reflection_order[i]]. The default is the affine coupling's (s, t) -> (s, -t).
  TORCH_ARG(std::int64_t, outputs) = 2;
  TORCH_ARG(std::vector<std::int64_t>, reflection_order) = {0, 1};
  TORCH_ARG(std::vector<double>, reflection_sign) = {1.0, -1.0};
};

class ConditionerImpl : public torch::nn::Module {
 public:
  /// Throws UserError for a kernel that is even or < 1, a hidden width < 1, an unknown activation or network,
  /// a dense network without an even lattice, or a reflection that is not an involution of the P outputs.
  explicit ConditionerImpl(ConditionerOptions options);

  /// theta [B, P, T, L] at every site, from the configurations x [B, T, L] whose active sites (`active` [T, L]
  /// is 1 there) are zeroed. UserError when the kernel wraps around the lattice more than once ("conv"), or on a
  /// lattice or mask other than the checkerboard of the lattice it was built for ("dense").
  at::Tensor forward(const at::Tensor& x, const at::Tensor& active);

  const ConditionerOptions& options() const { return options_; }

 private:
  at::Tensor raw(const at::Tensor& x, const at::Tensor& active);

  ConditionerOptions options_;
  ConvNet conv_{nullptr};
  torch::nn::Sequential dense_{nullptr};
  at::Tensor order_;  ///< reflection_order as indices (a plain member: Module::to(dtype) must not convert it)
  at::Tensor sign_;   ///< reflection_sign [1, P, 1, 1] (converted to the input's dtype and device on use)
};

TORCH_MODULE(Conditioner);

/// The conditioner settings of a run card that every scalar coupling flow reads: model.hidden_channels,
/// model.hidden_layers, model.kernel_size, model.activation, model.z2.
ConditionerOptions conditioner_options(const Config& card);

}  // namespace latflow
