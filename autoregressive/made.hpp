#pragma once
// MADE, the masked autoencoder for distribution estimation (Germain, Gregor, Murray & Larochelle, "MADE:
// Masked Autoencoder for Distribution Estimation", ICML 2015, arXiv 1502.03509), for n binary variables
// s_i = +-1 in a fixed order, with c extra inputs y that every output may read (the known border spins of
// a hierarchical network). A dense network whose weights are masked so that output i sees only s_<i and y:
//
//   logit_i(s, y) = log q(s_i = +1 | s_<i, y) - log q(s_i = -1 | s_<i, y),
//   q(s_i | s_<i, y) = sigmoid(s_i logit_i),        log q(s | y) = sum_i log sigmoid(s_i logit_i),
//
// so q(. | y) is normalised by the chain rule and sampled exactly spin by spin (n network calls).
//
// Architecture (as the VAN code of Wu, Wang & Zhang and the HAN code of Białas, Korcyl & Stebel, where
// depth is their net_depth and width their net_width): `depth` masked linear layers with a PReLU (one
// slope per unit, initialised to prelu_init) before every layer but the first,
//
//   (y, s) [c + n] -> h_1 [width (c + n)] -> ... -> h_{depth-1} [width (c + n)] -> logits [n].
//
// Each unit carries a rank: y has rank 0, s_i and logit_i rank i + 1, and hidden unit h has the rank of
// input h mod (c + n). The first layer connects input rank a to unit rank b if a < b or a = 0 (a unit of
// rank i + 1 sees y and s_<i; a rank-0 unit sees y only); every later layer if a <= b. By induction a unit
// of rank b depends on s_j only for j + 1 < b, so logit_i depends on y and s_<i alone, exactly, for any
// weights; logit_0 depends on y only (on the biases alone when c = 0). With depth = 1 the one layer maps the
// inputs to the logits under the first-layer rule: a logistic regression on s_<i and y.
//
// Weights are stored dense with their masks as buffers: a layer's parameter count includes its masked-out
// entries (the count Wu et al. and Białas et al. report). With depth 2 and width 1 (u = c + n units):
//   u^2 + 2u + n u + n parameters (first layer u^2 + u, PReLU u, last layer n u + n);
// in general, for depth d >= 2 and H = width u: H u + H + (d - 2)(H^2 + H) + (d - 1) H + n H + n.
// Initialisation: the dense defaults of torch::nn::Linear, masked and scaled by sqrt(#weights / #unmasked)
// (as in both codes), which restores on average the input variance a dense layer would have.
#include <cstdint>
#include <vector>

#include <ATen/core/Tensor.h>
#include <torch/arg.h>
#include <torch/nn/module.h>
#include <torch/nn/modules/activation.h>
#include <torch/nn/modules/linear.h>
#include <torch/nn/pimpl.h>

namespace latflow {

/// The shape of a MADE apart from its size (shared by VAN and HAN, whose sizes follow from the lattice).
struct MadeArchitecture {
  /// Masked linear layers (>= 1); depth - 1 hidden layers. 2 in Białas et al.'s HAN runs.
  TORCH_ARG(std::int64_t, depth) = 2;
  /// Hidden units per layer in multiples of c + n (>= 1).
  TORCH_ARG(std::int64_t, width) = 1;
  /// Initial slope of every PReLU on the negative side.
  TORCH_ARG(double, prelu_init) = 0.5;
};

struct MadeOptions {
  MadeOptions(std::int64_t n, std::int64_t c = 0) : n_(n), c_(c) {}
  /// Autoregressive spins (outputs), >= 1.
  TORCH_ARG(std::int64_t, n);
  /// Conditioning inputs that every output sees, >= 0.
  TORCH_ARG(std::int64_t, c);
  TORCH_ARG(MadeArchitecture, architecture);
};

/// Spins drawn from a MADE with their log-probability.
struct SpinSample {
  at::Tensor s;     ///< [B, n], +-1
  at::Tensor logq;  ///< [B], detached
};

class MadeImpl : public torch::nn::Module {
 public:
  /// Throws UserError for n < 1, c < 0, depth < 1 or width < 1.
  explicit MadeImpl(MadeOptions options);

  /// logit_i [B, n] of the spins s [B, n] (only s_<i is read for logit_i) given y [B, c]; y may be left
  /// undefined when c = 0.
  at::Tensor logits(const at::Tensor& s, const at::Tensor& y = {});
  /// log q(s | y) [B]; differentiable in the parameters.
  at::Tensor log_prob(const at::Tensor& s, const at::Tensor& y = {});
  /// `batch` spin vectors drawn from q(. | y), one spin per network call, with torch's default generator
  /// of the device; y [batch, c] (undefined when c = 0). No autograd graph is built.
  SpinSample sample(std::int64_t batch, const at::Tensor& y = {});

  const MadeOptions& options() const { return options_; }

 private:
  /// The network on (y, s) with the given masked weights (masked once per sampling run, not per spin).
  at::Tensor run(const at::Tensor& s, const at::Tensor& y, const std::vector<at::Tensor>& weights);
  std::vector<at::Tensor> masked_weights() const;

  MadeOptions options_;
  std::vector<torch::nn::Linear> layers_;  ///< "layer0", ...: dense weights, masked in run()
  std::vector<at::Tensor> masks_;          ///< "mask0", ...: 0/1 buffers shaped like the weights
  std::vector<torch::nn::PReLU> prelus_;   ///< "prelu1", ...: before layers 1 .. depth - 1
};

TORCH_MODULE(Made);

}  // namespace latflow
