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
  // Leave-one-out baseline b_i = mean of the other B - 1 signals: independent of sample i, so
  // E[(s_i - b_i) grad log q_i] = grad KL exactly. Since s_i - b_i = B/(B-1) (s_i - mean s), this is the
  // batch-mean baseline rescaled; the plain batch mean would shrink the gradient by (B-1)/B.
  const double B = static_cast<double>(batch);
  const at::Tensor advantage = batch > 1 ? (signal - signal.mean()) * (B / (B - 1)) : at::zeros_like(signal);
  const at::Tensor surrogate = (advantage * logq).mean();
  return {surrogate, d.logq, s};
}

}  // namespace latflow
