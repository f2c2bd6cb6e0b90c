#pragma once
// A normalizing flow: a base distribution q0 and a bijection f, so that phi = f(z), z ~ q0, has the exact
// density log q(phi) = log q0(z) - log|det df/dz| (Rezende & Mohamed 2015; for lattice fields Albergo,
// Kanwar & Shanahan 2019). Every model family (operator CNF, coupling, hierarchical) is a Flow with its
// own Transform; it is a Sampler (flows/sampler.hpp), so trainers, estimators, evaluation and the CLI treat
// it like every other model.
#include <memory>
#include <string>

#include "flows/sampler.hpp"
#include "flows/transform.hpp"
#include "lattice/geometry.hpp"
#include "lattice/prior.hpp"

namespace latflow {

class FlowImpl : public SamplerImpl {
 public:
  FlowImpl(PriorPtr prior, TransformPtr transform);

  /// n configurations on `lattice` with their exact log-density; differentiable in the parameters
  /// (the reparameterisation trick) unless grad mode is off.
  Density sample(std::int64_t n, const Lattice& lattice) override;
  /// The exact log q(phi) [B], by running the transform in reverse; differentiable in the parameters.
  at::Tensor log_prob(const at::Tensor& phi) override;
  std::vector<std::int64_t> sample_shape(const Lattice& lattice) const override {
    return prior_->sample_shape(lattice);
  }
  std::string sample_space() const override { return prior_->sample_space(); }
  std::string base_name() const override { return prior_->name(); }

  const Prior& prior() const { return *prior_; }
  TransformImpl& transform() { return *transform_; }

 private:
  PriorPtr prior_;
  TransformPtr transform_;
};

using FlowPtr = std::shared_ptr<FlowImpl>;

}  // namespace latflow
