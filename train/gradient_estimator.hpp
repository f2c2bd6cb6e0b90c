#pragma once
// Gradient estimators of the reverse Kullback-Leibler divergence
//
//   KL(q || p) = E_q[ log q(phi) + S(phi) ] + log Z,
//
// the training loss of every flow (Albergo, Kanwar & Shanahan 2019). An estimator draws a batch and returns
// a scalar surrogate whose gradient estimates grad KL, plus the detached per-sample log q and S for
// monitoring (ESS, loss). Two strategies (Białas, Korcyl & Stebel, CPC 2024, arXiv 2308.13294):
//  - reparameterisation ("reparam"): phi = f(z) keeps the graph, grad = E[grad_theta (log q + S)];
//    needs dS/dphi through autograd;
//  - REINFORCE ("reinforce"): samples drawn without a graph, signal s = log q + S detached,
//    grad = (1/B) sum_i (s_i - b_i) grad_theta log q(phi_i) with log q re-evaluated at the detached sample
//    and the leave-one-out baseline b_i = (sum_{j != i} s_j) / (B - 1). The baseline cuts the variance
//    (E_q[grad log q] = 0) and, being independent of sample i, keeps the estimate unbiased for any B; the
//    batch mean including s_i (as in Białas et al.'s code) would scale it by (B - 1)/B. With B = 1 there
//    is no baseline and no signal: the gradient is 0. It never differentiates the action, which pays off
//    when dS/dphi is expensive (the Schwinger model with Wilson fermions), and it is the only one of the two
//    for discrete variables (Ising spins), whose samples are not differentiable in the parameters.
//
// Annealing (Wu, Wang & Zhang, PRL 122, 080602 (2019)) trains against the tempered target exp(-a S) with a
// rising a <= 1 (for the Ising model, S = beta H: a rising beta), passed as `action_scale`; the returned
// `action` is the untempered S, so what is monitored is always the real target.
#include <memory>
#include <string>

#include <ATen/core/Tensor.h>

#include "flows/sampler.hpp"
#include "lattice/action.hpp"

namespace latflow {

struct LossTerms {
  at::Tensor surrogate;  ///< scalar; backward() gives the gradient estimate
  at::Tensor logq;       ///< [B], detached
  at::Tensor action;     ///< [B], detached
};

class GradientEstimator {
 public:
  virtual ~GradientEstimator() = default;
  /// A batch of `batch` samples of `model` on `lattice` against exp(-action_scale S).
  LossTerms operator()(SamplerImpl& model, const Action& action, std::int64_t batch, const Lattice& lattice,
                       double action_scale = 1.0) const;
  /// Whether the estimator differentiates through the samples (then the model must be reparameterizable).
  virtual bool differentiates_samples() const = 0;
  virtual std::string name() const = 0;

 protected:
  virtual LossTerms estimate(SamplerImpl& model, const Action& action, std::int64_t batch,
                             const Lattice& lattice, double action_scale) const = 0;
};

/// Throws a UserError when `estimator` cannot train `model` (reparameterisation of discrete samples).
void check_estimator_fits(const GradientEstimator& estimator, const SamplerImpl& model);

using GradientEstimatorPtr = std::shared_ptr<const GradientEstimator>;

class ReparameterizationEstimator : public GradientEstimator {
 public:
  bool differentiates_samples() const override { return true; }
  std::string name() const override { return "reparam"; }

 protected:
  LossTerms estimate(SamplerImpl& model, const Action& action, std::int64_t batch, const Lattice& lattice,
                     double action_scale) const override;
};

class ReinforceEstimator : public GradientEstimator {
 public:
  bool differentiates_samples() const override { return false; }
  std::string name() const override { return "reinforce"; }

 protected:
  LossTerms estimate(SamplerImpl& model, const Action& action, std::int64_t batch, const Lattice& lattice,
                     double action_scale) const override;
};

}  // namespace latflow
