#pragma once
// A normalizing flow: a base distribution q0 and a bijection f, so that phi = f(z), z ~ q0, has the exact
// density log q(phi) = log q0(z) - log|det df/dz| (Rezende & Mohamed 2015; for lattice fields Albergo,
// Kanwar & Shanahan 2019). Every model family (operator CNF, coupling, hierarchical) is a Flow with its
// own Transform, so trainers, estimators, evaluation and the CLI treat them alike.
#include <memory>
#include <string>

#include <torch/nn/module.h>

#include "flows/transform.hpp"
#include "lattice/geometry.hpp"
#include "lattice/prior.hpp"

namespace latflow {

class FlowImpl : public torch::nn::Module {
 public:
  FlowImpl(PriorPtr prior, TransformPtr transform);

  /// n configurations on `lattice` with their exact log-density; differentiable in the parameters
  /// (the reparameterisation trick) unless grad mode is off.
  Density sample(std::int64_t n, const Lattice& lattice);
  /// The exact log q(phi) [B], by running the transform in reverse; differentiable in the parameters.
  at::Tensor log_prob(const at::Tensor& phi);

  const Prior& prior() const { return *prior_; }
  TransformImpl& transform() { return *transform_; }
  /// The dtype and device the flow computes in (follows .to(), also for a flow without parameters).
  c10::TensorOptions tensor_options() const { return dtype_probe_.options(); }
  /// Number of trainable scalars.
  std::int64_t parameter_count() const;

 private:
  PriorPtr prior_;
  TransformPtr transform_;
  at::Tensor dtype_probe_;  ///< an empty buffer that .to() moves along with the parameters
};

using FlowPtr = std::shared_ptr<FlowImpl>;

}  // namespace latflow
