#pragma once
// A normalizing flow on the unit hypercube, the importance-sampling density q of neural importance sampling
// (Müller, McWilliams, Rousselle, Gross & Novák, ACM TOG 2019, arXiv 1808.03856; as ZüNIS builds it,
// Deutschmann & Götz, arXiv 2401.09069): a uniform prior on [0, 1]^d and coupling cells, each transforming
// the coordinates A of its mask (coupling_masks.hpp) by an elementwise bijection of [0, 1] whose parameters a
// dense network reads from the other coordinates,
//
//   y_A = h(x_A; NN(2 x_{~A} - 1)),   y_{~A} = x_{~A},   log q(y) = log q(x) - sum_{i in A} log h'(x_i),
//
// so the Jacobian is triangular and the density exact. h is any interval transform of flows/elementwise/
// (piecewise_linear and piecewise_quadratic of Müller et al., rq_spline_interval of Durkan et al. 2019): the
// same transforms the lattice coupling flows use, with the same guarantees (faces fixed exactly, identity at
// zero parameters). The network is ZüNIS's: the input shifted to [-1, 1], `hidden_layers` + 1 Linear layers
// of `hidden_width` with LeakyReLU, then a Linear output that starts at zero, so every cell starts as the
// identity and training starts from uniform sampling.
//
// It is a torch Module with the sampler interface of flows/sampler.hpp, sample(n) -> (x, log q) and
// log_prob(x), without a lattice: a point of the cube has no geometry to vary.
#include <cstdint>
#include <string>
#include <vector>

#include <torch/arg.h>
#include <torch/nn/module.h>
#include <torch/nn/modules/container/sequential.h>
#include <torch/nn/pimpl.h>

#include "flows/elementwise/elementwise_transform.hpp"
#include "flows/transform.hpp"

namespace latflow {

struct CubeFlowOptions {
  explicit CubeFlowOptions(std::int64_t dimension) : dimension_(dimension) {}
  TORCH_ARG(std::int64_t, dimension);
  /// An interval transform of flows/elementwise/ (piecewise_quadratic, piecewise_linear, rq_spline_interval).
  TORCH_ARG(std::string, transform) = "piecewise_quadratic";
  TORCH_ARG(std::int64_t, bins) = 20;
  /// coupling_masks.hpp: checkerboard, maximal, iflow.
  TORCH_ARG(std::string, masking) = "iflow";
  TORCH_ARG(std::int64_t, repetitions) = 2;
  TORCH_ARG(std::int64_t, hidden_width) = 64;
  TORCH_ARG(std::int64_t, hidden_layers) = 3;
};

/// One coupling cell: transforms the coordinates `active` of x [B, d].
class CubeCouplingImpl : public TransformImpl {
 public:
  CubeCouplingImpl(std::int64_t dimension, std::vector<std::int64_t> active, ElementwisePtr transform,
                   std::int64_t hidden_width, std::int64_t hidden_layers);
  Density forward(const Density& x) override { return run(x, false); }
  Density reverse(const Density& y) override { return run(y, true); }

 private:
  Density run(const Density& d, bool reverse);
  ElementwisePtr transform_;
  std::int64_t n_active_;
  at::Tensor active_, passive_;  ///< the coordinates transformed and read, as indices (CPU)
  torch::nn::Sequential net_;
};

TORCH_MODULE(CubeCoupling);

class CubeFlowImpl : public torch::nn::Module {
 public:
  /// Throws UserError for dimension < 1, a transform that is not an interval transform, bins < 1, widths or
  /// depths out of range, or an unknown masking.
  explicit CubeFlowImpl(CubeFlowOptions options);

  /// n points x [n, d] drawn from q, with log q(x) [n]; differentiable in the parameters unless grad mode is off.
  Density sample(std::int64_t n);
  /// The exact log q(x) [B] of points x [B, d] in [0, 1]^d; differentiable in the parameters.
  at::Tensor log_prob(const at::Tensor& x);

  const CubeFlowOptions& options() const { return options_; }
  /// The coupling cells, in the order sample() applies them.
  const std::vector<CubeCoupling>& cells() const { return cells_; }
  c10::TensorOptions tensor_options() const { return probe_.options(); }
  std::int64_t parameter_count() const;

 private:
  CubeFlowOptions options_;
  std::vector<CubeCoupling> cells_;
  at::Tensor probe_;  ///< follows .to() (dtype and device)
};

TORCH_MODULE(CubeFlow);

/// "piecewise_quadratic", "piecewise_linear", "rq_spline_interval": the registered interval transforms.
std::vector<std::string> cube_transforms();

}  // namespace latflow
