#include "integration/neural_importance_sampling.hpp"

#include <chrono>
#include <cmath>
#include <limits>

#include <torch/torch.h>

#include "core/choices.hpp"
#include "core/error.hpp"
#include "integration/nis_loss.hpp"

namespace latflow {

namespace {

void require_count(std::int64_t v, const std::string& key) {
  if (v < 1) throw UserError("nis." + key + " must be an integer >= 1; got " + std::to_string(v));
}

/// Whether every gradient is finite: their total norm, by the reduction the trainer uses (no clipping at an
/// infinite bound), so one host synchronisation per step instead of one per parameter.
bool finite_gradients(const std::vector<at::Tensor>& params) {
  return std::isfinite(torch::nn::utils::clip_grad_norm_(params, std::numeric_limits<double>::infinity()));
}

std::vector<at::Tensor> snapshot(const std::vector<at::Tensor>& params) {
  std::vector<at::Tensor> out;
  for (const auto& p : params) out.push_back(p.detach().clone());
  return out;
}

void restore(const std::vector<at::Tensor>& params, const std::vector<at::Tensor>& saved) {
  torch::NoGradGuard no_grad;
  for (std::size_t i = 0; i < params.size(); ++i) params[i].copy_(saved[i]);
}

stats::Estimate batch_estimate(const at::Tensor& w) {
  const double n = static_cast<double>(w.numel());
  const double var = n > 1 ? w.var().item<double>() : 0.0;
  return {w.mean().item<double>(), std::sqrt(var / n)};
}

}  // namespace

std::vector<std::string> survey_strategies() { return {"flat", "forward", "forward_flat_init", "adaptive"}; }

void check_nis_options(const NisOptions& o) {
  require_count(o.survey_iterations(), "survey_iterations");
  require_count(o.survey_points(), "survey_points");
  require_count(o.epochs(), "epochs");
  require_count(o.minibatch(), "minibatch");
  require_count(o.refine_iterations(), "refine_iterations");
  require_count(o.refine_points(), "refine_points");
  if (!(std::isfinite(o.learning_rate()) && o.learning_rate() > 0))
    throw UserError("nis.learning_rate must be a finite number > 0; got " + std::to_string(o.learning_rate()));
  require_choice("nis.loss", o.loss(), nis_losses());
  require_choice("nis.survey", o.survey(), survey_strategies());
}

std::vector<SurveyRecord> nis_survey(CubeFlowImpl& flow, const Integrand& f, const NisOptions& o,
                                     const std::function<void(const SurveyRecord&)>& on_iteration) {
  check_nis_options(o);
  if (f.dimension() != flow.options().dimension())
    throw UserError("the flow is on [0, 1]^" + std::to_string(flow.options().dimension()) + " but integrand '" +
                    f.name() + "' is on [0, 1]^" + std::to_string(f.dimension()));
  const auto start = std::chrono::steady_clock::now();
  std::vector<at::Tensor> params;
  for (const auto& p : flow.parameters())
    if (p.requires_grad()) params.push_back(p);
  torch::optim::Adam adam(params, torch::optim::AdamOptions(o.learning_rate()));
  const auto opts = flow.tensor_options();
  const std::int64_t n = o.survey_points(), d = flow.options().dimension();
  bool forward = o.survey() == "forward";
  std::vector<at::Tensor> before_last_step = snapshot(params);
  std::vector<SurveyRecord> records;
  for (std::int64_t it = 0; it < o.survey_iterations(); ++it) {
    if (o.survey() == "forward_flat_init") forward = it > 0;
    SurveyRecord rec;
    rec.iteration = it;
    rec.sampled_from = forward ? "flow" : "uniform";
    at::Tensor x, log_p;
    if (forward) {
      torch::NoGradGuard no_grad;
      Density s = flow.sample(n);
      x = s.phi;
      log_p = s.logq;
    } else {
      x = torch::rand({n, d}, opts);
      log_p = torch::zeros({n}, opts);
    }
    const at::Tensor fx = evaluate_checked(f, x);
    const at::Tensor w = fx * torch::exp(-log_p);
    rec.estimate = batch_estimate(w);
    if (rec.estimate.value == 0) {
      if (it == 0)
        throw UserError("integrand '" + f.name() + "' is zero at all " + std::to_string(n) +
                        " points of the first survey iteration, so there is nothing to learn from; raise "
                        "nis.survey_points, or check the integrand's parameters (a width or radius that puts its "
                        "mass out of reach)");
      throw UserError("integrand '" + f.name() + "' is zero at all " + std::to_string(n) + " points drawn from " +
                      rec.sampled_from + " in survey iteration " + std::to_string(it) +
                      "; the flow has lost the integrand's support (try nis.survey = \"flat\" or a lower "
                      "nis.learning_rate)");
    }
    const double scale = rec.estimate.value;
    const std::int64_t mb = std::min(o.minibatch(), n);
    double last_epoch_loss = 0;
    for (std::int64_t e = 0; e < o.epochs(); ++e) {
      const at::Tensor perm = torch::randperm(n, torch::TensorOptions().dtype(torch::kLong).device(opts.device()));
      double sum = 0;
      std::int64_t counted = 0;
      for (std::int64_t b = 0; b < n; b += mb) {
        const at::Tensor idx = perm.narrow(0, b, std::min(mb, n - b));
        adam.zero_grad();
        const at::Tensor loss =
            nis_loss(o.loss(), fx.index_select(0, idx), log_p.index_select(0, idx), flow.log_prob(x.index_select(0, idx)), scale);
        const double value = loss.item<double>();
        if (!std::isfinite(value)) {
          // The last step took the flow where its density is not finite: step back.
          restore(params, before_last_step);
          ++rec.skipped_steps;
          continue;
        }
        loss.backward();
        if (!finite_gradients(params)) {
          ++rec.skipped_steps;
          continue;
        }
        before_last_step = snapshot(params);
        adam.step();
        ++rec.steps;
        sum += value;
        ++counted;
      }
      if (counted > 0) last_epoch_loss = sum / static_cast<double>(counted);
    }
    adam.zero_grad();
    {
      // The iteration's last step is checked on the batch too, so that no step leaves a non-finite model.
      torch::NoGradGuard no_grad;
      const std::int64_t m = std::min(mb, n);
      if (!std::isfinite(nis_loss(o.loss(), fx.narrow(0, 0, m), log_p.narrow(0, 0, m), flow.log_prob(x.narrow(0, 0, m)),
                                  scale).item<double>())) {
        restore(params, before_last_step);
        ++rec.skipped_steps;
      }
    }
    if (rec.steps == 0)
      throw UserError("NIS training: every gradient step of survey iteration " + std::to_string(it) +
                      " had a non-finite loss or gradient, so the flow was left as it was; lower nis.learning_rate");
    rec.loss = last_epoch_loss;
    if (o.survey() == "adaptive" && !forward) {
      if (o.loss() == "kl") {
        forward = rec.loss < 0;
      } else {
        // In the units of the scaled loss, uniform q has L_flat = mean f^2 / I_p^2.
        const at::Tensor f2 = (fx / scale).square();
        const double flat = f2.mean().item<double>(), spread = f2.std().item<double>();
        forward = rec.loss < flat - std::min(flat / 4, spread);
      }
    }
    rec.seconds = seconds_since(start);
    records.push_back(rec);
    if (on_iteration) on_iteration(rec);
  }
  return records;
}

std::pair<stats::Estimate, double> combine_inverse_variance(const std::vector<stats::Estimate>& parts) {
  if (parts.empty()) throw UserError("combine_inverse_variance: no estimates");
  double exact_sum = 0, sw = 0, swx = 0;
  std::int64_t exact = 0;
  for (const auto& p : parts) {
    if (p.error == 0) {
      exact_sum += p.value;
      ++exact;
    } else {
      sw += 1 / (p.error * p.error);
      swx += p.value / (p.error * p.error);
    }
  }
  if (exact > 0) return {{exact_sum / static_cast<double>(exact), 0.0}, 0.0};
  const stats::Estimate mean{swx / sw, std::sqrt(1 / sw)};
  double chi2 = 0;
  for (const auto& p : parts) chi2 += std::pow((p.value - mean.value) / p.error, 2);
  return {mean, parts.size() > 1 ? chi2 / static_cast<double>(parts.size() - 1) : 0.0};
}

RefineResult nis_refine(CubeFlowImpl& flow, const Integrand& f, const NisOptions& o,
                        const std::function<void(std::int64_t)>& on_iteration) {
  check_nis_options(o);
  const auto start = std::chrono::steady_clock::now();
  torch::NoGradGuard no_grad;
  RefineResult r;
  double sum = 0, sum2 = 0, max = 0;
  for (std::int64_t k = 0; k < o.refine_iterations(); ++k) {
    const Density s = flow.sample(o.refine_points());
    const at::Tensor w = (evaluate_checked(f, s.phi) * torch::exp(-s.logq)).to(torch::kDouble);
    r.iterations.push_back(batch_estimate(w));
    sum += w.sum().item<double>();
    sum2 += w.square().sum().item<double>();
    max = std::max(max, w.max().item<double>());
    r.evaluations += o.refine_points();
    if (on_iteration) on_iteration(k + 1);
  }
  std::tie(r.integral, r.chi2_dof) = combine_inverse_variance(r.iterations);
  const double n = static_cast<double>(r.evaluations), mean = sum / n;
  r.weight_relative_std = mean > 0 ? std::sqrt(std::max(0.0, sum2 / n - mean * mean)) / mean : 0.0;
  r.unweighting_efficiency = max > 0 ? mean / max : 0.0;
  r.seconds = seconds_since(start);
  return r;
}

}  // namespace latflow
