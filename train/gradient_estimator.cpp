#include "train/gradient_estimator.hpp"

#include <torch/torch.h>

namespace latflow {

LossTerms ReparameterizationEstimator::operator()(FlowImpl& flow, const Action& action,
                                                  std::int64_t batch, const Lattice& lattice) const {
  const Density d = flow.sample(batch, lattice);
  const at::Tensor s = action.action(d.phi);
  return {(d.logq + s).mean(), d.logq.detach(), s.detach()};
}

LossTerms ReinforceEstimator::operator()(FlowImpl& flow, const Action& action, std::int64_t batch,
                                         const Lattice& lattice) const {
  Density d;
  at::Tensor s;
  {
    torch::NoGradGuard no_grad;
    d = flow.sample(batch, lattice);
    s = action.action(d.phi);
  }
  const at::Tensor signal = d.logq + s;
  const at::Tensor logq = flow.log_prob(d.phi);
  // E[(s - b) grad log q]: the baseline b = <s> leaves it unbiased up to O(1/B) and cuts its variance.
  const at::Tensor surrogate = ((signal - signal.mean()) * logq).mean();
  return {surrogate, d.logq, s};
}

}  // namespace latflow
