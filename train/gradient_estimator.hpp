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
//    when dS/dphi is expensive (the Schwinger model with Wilson fermions).
#include <memory>
#include <string>

#include <ATen/core/Tensor.h>

#include "flows/flow.hpp"
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
  virtual LossTerms operator()(FlowImpl& flow, const Action& action, std::int64_t batch,
                               const Lattice& lattice) const = 0;
};

using GradientEstimatorPtr = std::shared_ptr<const GradientEstimator>;

class ReparameterizationEstimator : public GradientEstimator {
 public:
  LossTerms operator()(FlowImpl& flow, const Action& action, std::int64_t batch,
                       const Lattice& lattice) const override;
};

class ReinforceEstimator : public GradientEstimator {
 public:
  LossTerms operator()(FlowImpl& flow, const Action& action, std::int64_t batch,
                       const Lattice& lattice) const override;
};

}  // namespace latflow
