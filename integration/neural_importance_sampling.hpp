#pragma once
// Neural importance sampling (Müller et al., arXiv 1808.03856) in the two phases of ZüNIS (Deutschmann & Götz,
// arXiv 2401.09069, integration/*.py of their code):
//
// Survey: `survey_iterations` times, draw `survey_points` points from a sampling density p, evaluate f once
//   there, then take `epochs` passes of minibatch Adam steps on that fixed batch with a loss of nis_loss.hpp.
//   The strategies choose p:
//     flat               p uniform at every iteration;
//     forward            p = the flow itself, frozen while the batch is drawn (points detached, log p kept), so
//                        each evaluation of f serves epochs x (points / minibatch) gradient steps;
//     forward_flat_init  uniform at the first iteration, then forward (ZüNIS's library default);
//     adaptive           uniform until the flow is better than uniform by ZüNIS's rule, then forward: for the
//                        variance loss once L < L_flat - min(L_flat / 4, std f^2) with L_flat = mean f^2 over the
//                        uniform batch (VarianceAdaptiveSurveyIntegrator), for the KL loss once L < 0
//                        (DKLAdaptiveSurveyIntegrator; a uniform q has L = 0).
//   Survey estimates are reported but never enter the result (ZüNIS's use_survey = False: the flow was fitted
//   to those very points).
//
// Refine: the flow frozen, `refine_iterations` independent batches of `refine_points` points from q, each an
//   estimate I_k = mean(f/q) +- sqrt(var(f/q) / n), combined by inverse variance,
//
//   I = sum_k I_k / s_k^2 / sum_k 1 / s_k^2,   s(I)^2 = 1 / sum_k 1 / s_k^2,   chi^2/dof = sum_k (I_k - I)^2 / s_k^2 / (K - 1),
//
// with the relative standard deviation of the weights w = f/q and the unweighting efficiency mean(w) / max(w)
// (ZüNIS's definition; MadNIS's uses a bootstrap median of the maximum instead).
//
// No training step may produce a non-finite model: a minibatch whose gradient is not finite is skipped, and
// one whose loss is not finite (the previous step took the flow too far) undoes that step; both are counted
// in the survey record, the last step of each iteration is checked the same way, and a survey iteration in
// which no step was taken is a UserError. Bad input (a negative, NaN or infinite f; an f that is zero at every point of the first survey)
// is a UserError naming what was wrong.
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include <torch/arg.h>

#include "integration/cube_flow.hpp"
#include "integration/integrand.hpp"
#include "lattice/statistics.hpp"

namespace latflow {

struct NisOptions {
  /// nis_loss.hpp: "variance" or "kl".
  TORCH_ARG(std::string, loss) = "variance";
  /// "flat", "forward", "forward_flat_init", "adaptive".
  TORCH_ARG(std::string, survey) = "adaptive";
  TORCH_ARG(std::int64_t, survey_iterations) = 10;
  TORCH_ARG(std::int64_t, survey_points) = 10000;
  TORCH_ARG(std::int64_t, epochs) = 5;
  TORCH_ARG(std::int64_t, minibatch) = 2000;
  TORCH_ARG(double, learning_rate) = 1e-3;
  TORCH_ARG(std::int64_t, refine_iterations) = 5;
  TORCH_ARG(std::int64_t, refine_points) = 20000;
};

/// "flat", "forward", "forward_flat_init", "adaptive".
std::vector<std::string> survey_strategies();
/// Throws UserError (what was wrong, what is allowed) for counts < 1 (zero evaluations), a learning rate that
/// is not finite and > 0, or an unknown loss or strategy.
void check_nis_options(const NisOptions& o);

/// One survey iteration.
struct SurveyRecord {
  std::int64_t iteration = 0;
  std::string sampled_from;       ///< "uniform" or "flow"
  double loss = 0;                ///< mean loss of the last epoch
  stats::Estimate estimate;       ///< mean(f/p) on the batch (biased as a result: the flow trains on it)
  std::int64_t steps = 0;         ///< Adam steps taken
  std::int64_t skipped_steps = 0; ///< minibatches with a non-finite loss or gradient
  double seconds = 0;             ///< since the survey began
};

struct RefineResult {
  stats::Estimate integral;
  double chi2_dof = 0;            ///< of the K iterations (0 for K = 1)
  std::vector<stats::Estimate> iterations;
  double weight_relative_std = 0; ///< std(w) / mean(w), w = f/q, over all refine points
  double unweighting_efficiency = 0;  ///< mean(w) / max(w)
  std::int64_t evaluations = 0;
  double seconds = 0;
};

/// Trains `flow` on f by the survey; calls on_iteration after each iteration. Returns the records.
std::vector<SurveyRecord> nis_survey(CubeFlowImpl& flow, const Integrand& f, const NisOptions& options,
                                     const std::function<void(const SurveyRecord&)>& on_iteration = {});

/// Integrates f with the frozen flow.
RefineResult nis_refine(CubeFlowImpl& flow, const Integrand& f, const NisOptions& options,
                        const std::function<void(std::int64_t done)>& on_iteration = {});

/// Inverse-variance combination of independent estimates, with chi^2 per degree of freedom (0 for one
/// estimate). Estimates with zero error are exact: they are averaged among themselves and the others ignored.
std::pair<stats::Estimate, double> combine_inverse_variance(const std::vector<stats::Estimate>& parts);

}  // namespace latflow
