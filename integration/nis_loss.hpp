#pragma once
// The training losses of neural importance sampling with sample reuse (ZüNIS, Deutschmann & Götz,
// arXiv 2401.09069, variance_training.py and dkl_training.py of their code). The points of a batch were
// drawn from an auxiliary density p (uniform, or a frozen copy of the flow) and are importance-weighted by
// f/p, so one batch serves many gradient steps of the flow q_theta:
//
//   variance:  L = E_{x~p}[f^2 / (p q_theta)]           (= int f^2/q, the second moment of the estimator
//                                                        f/q; its variance minus the constant I^2)
//   kl:        L = -E_{x~p}[(f / p) log q_theta]         (= I D_KL(f/I || q_theta) up to a constant)
//
// Both are estimated by the batch means. Here they are divided by powers of the batch estimate
// I_p = mean(f/p) (I_p^2 for the variance, I_p for the KL), a constant per batch: the minimiser and Adam's
// steps are unchanged, but the loss is of order one whatever the scale of f, so Adam's epsilon and the
// finiteness checks see the same numbers for an integral of 1e-12 as for one of 1.
#include <string>
#include <vector>

#include <ATen/core/Tensor.h>

namespace latflow {

/// The loss `name` ("variance" or "kl") of a batch: f [B] at points drawn from p (log p [B]), scaled by
/// `scale` = I_p, at the flow's log q_theta [B] (differentiable). UserError for an unknown name.
at::Tensor nis_loss(const std::string& name, const at::Tensor& f, const at::Tensor& log_p, const at::Tensor& log_q,
                    double scale);

/// "variance", "kl".
std::vector<std::string> nis_losses();

}  // namespace latflow
