#include "train/gradient_estimator.hpp"

#include <torch/torch.h>

#include "core/error.hpp"

namespace latflow {

void check_estimator_fits(const GradientEstimator& estimator, const SamplerImpl& model) {
  if (estimator.differentiates_samples() && !model.reparameterizable())
    throw UserError("train.estimator = \"" + estimator.name() + "\" differentiates through the samples, but the model samples "
                    "discrete " + model.sample_space() + "s, which have no such derivative; use train.estimator = \"reinforce\"");
}

LossTerms GradientEstimator::operator()(SamplerImpl& model, const Action& action, std::int64_t batch,
                                        const Lattice& lattice, double action_scale) const {
  check_estimator_fits(*this, model);
  return estimate(model, action, batch, lattice, action_scale);
}

LossTerms ReparameterizationEstimator::estimate(SamplerImpl& flow, const Action& action, std::int64_t batch,
                                                const Lattice& lattice, double action_scale) const {
  const Density d = flow.sample(batch, lattice);
  const at::Tensor s = action.action(d.phi);
  return {(d.logq + action_scale * s).mean(), d.logq.detach(), s.detach()};
}

LossTerms ReinforceEstimator::estimate(SamplerImpl& flow, const Action& action, std::int64_t batch,
                                       const Lattice& lattice, double action_scale) const {
  Density d;
  at::Tensor s;
  {
    torch::NoGradGuard no_grad;
    d = flow.sample(batch, lattice);
    s = action.action(d.phi);
  }
  const at::Tensor signal = d.logq + action_scale * s;
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
