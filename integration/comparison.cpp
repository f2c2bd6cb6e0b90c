#include "integration/comparison.hpp"

#include <cstdio>

#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include "core/random.hpp"

namespace latflow {

namespace {

nlohmann::json optional_json(const std::optional<double>& v) { return v ? nlohmann::json(*v) : nlohmann::json(); }

nlohmann::json baseline_json(const std::optional<MonteCarloResult>& r) {
  if (!r) return nullptr;
  return {{"integral", r->integral.value}, {"error", r->integral.error}, {"chi2_dof", r->chi2_dof},
          {"n_evaluations", r->evaluations}, {"seconds", r->seconds}};
}

std::optional<double> ratio(const std::optional<MonteCarloResult>& base, double error) {
  if (!base || error <= 0) return std::nullopt;
  return std::pow(base->integral.error / error, 2);
}

std::string format(const char* fmt, double a, double b) {
  char buf[96];
  std::snprintf(buf, sizeof buf, fmt, a, b);
  return buf;
}

}  // namespace

nlohmann::json Comparison::to_json() const {
  nlohmann::json survey_json = nlohmann::json::array();
  for (const auto& s : survey)
    survey_json.push_back({{"iteration", s.iteration}, {"sampled_from", s.sampled_from}, {"loss", s.loss},
                           {"estimate", s.estimate.value}, {"error", s.estimate.error}, {"steps", s.steps},
                           {"skipped_steps", s.skipped_steps}, {"seconds", s.seconds}});
  return {{"integral", nis.integral.value},
          {"error", nis.integral.error},
          {"exact", optional_json(exact)},
          {"n_evaluations", nis.evaluations},
          {"survey_evaluations", survey_evaluations},
          {"chi2_dof", nis.chi2_dof},
          {"weight_relative_std", nis.weight_relative_std},
          {"unweighting_efficiency", nis.unweighting_efficiency},
          {"seconds", {{"train", train_seconds}, {"integrate", nis.seconds}}},
          {"variance_ratio", {{"uniform", optional_json(variance_ratio_uniform)}, {"vegas", optional_json(variance_ratio_vegas)}}},
          {"uniform", baseline_json(uniform)},
          {"vegas", baseline_json(vegas)},
          {"survey", survey_json}};
}

Comparison compare_integrators(CubeFlowImpl& flow, const Integrand& f, const ComparisonOptions& o,
                               const ComparisonProgress& progress) {
  torch::manual_seed(o.seed);
  Comparison c;
  c.exact = f.exact();
  c.survey = nis_survey(flow, f, o.nis, [&](const SurveyRecord& r) {
    if (progress) progress("survey", r.iteration + 1, format("loss %.4g  I %.6g", r.loss, r.estimate.value));
  });
  c.train_seconds = c.survey.empty() ? 0.0 : c.survey.back().seconds;
  c.survey_evaluations = o.nis.survey_iterations() * o.nis.survey_points();
  c.nis = nis_refine(flow, f, o.nis, [&](std::int64_t k) {
    if (progress) progress("refine", k, "");
  });
  const std::int64_t calls = c.nis.evaluations;
  if (o.uniform) {
    if (progress) progress("uniform", 0, "");
    c.uniform = plain_monte_carlo(f, calls, derive_seed(o.seed, 1));
  }
  if (o.run_vegas) {
    if (progress) progress("vegas", 0, "");
    VegasOptions v = o.vegas;
    v.training_iterations = o.nis.survey_iterations();
    v.training_calls = o.nis.survey_points();
    c.vegas = gsl_vegas(f, v, calls, derive_seed(o.seed, 2));
  }
  c.variance_ratio_uniform = ratio(c.uniform, c.nis.integral.error);
  c.variance_ratio_vegas = ratio(c.vegas, c.nis.integral.error);
  return c;
}

}  // namespace latflow
