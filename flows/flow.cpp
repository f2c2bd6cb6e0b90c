#include "flows/flow.hpp"

#include <torch/torch.h>

namespace latflow {

FlowImpl::FlowImpl(PriorPtr prior, TransformPtr transform)
    : prior_(std::move(prior)),
      transform_(register_module("transform", std::move(transform))) {}

Density FlowImpl::sample(std::int64_t n, const Lattice& lattice) {
  const at::Tensor z = prior_->sample(n, lattice, tensor_options());
  return transform_->forward({z, prior_->log_prob(z)});
}

at::Tensor FlowImpl::log_prob(const at::Tensor& phi) {
  const Density z = transform_->reverse({phi, torch::zeros({phi.size(0)}, phi.options())});
  // z.logq = log|det df/dz| accumulated on the way back; q(phi) = q0(z) / |det df/dz|.
  return prior_->log_prob(z.phi) - z.logq;
}

}  // namespace latflow
