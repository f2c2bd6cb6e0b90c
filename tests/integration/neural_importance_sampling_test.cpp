// Neural importance sampling and its baselines on small budgets: every (integrator, integrand) pair lands within
// 3 sigma of the exact integral (the quadrature for the slashed circle), for every loss and survey strategy; the
// sample-reuse losses agree whether their points come from the uniform density or from the flow; training
// improves on uniform sampling; the inverse-variance combination; and bad input as UserErrors, never a NaN model.
#include <torch/torch.h>
#include <catch2/catch.hpp>

#include <cmath>

#include "core/error.hpp"
#include "integration/comparison.hpp"
#include "integration/nis_loss.hpp"
#include "integration/registry.hpp"
#include "integration_testing.hpp"

using namespace latflow;

namespace {

NisOptions small_budget() {
  return NisOptions().survey_iterations(4).survey_points(4000).epochs(2).minibatch(1000).refine_iterations(3).refine_points(4000);
}

CubeFlow small_flow(std::int64_t d) {
  CubeFlow flow(CubeFlowOptions(d).bins(8).hidden_width(16).hidden_layers(1).repetitions(1));
  flow->to(torch::kDouble);
  return flow;
}

void check_within_3_sigma(const std::string& what, const stats::Estimate& e, double reference) {
  INFO(what << ": " << e.value << " +- " << e.error << ", reference " << reference);
  CHECK(e.error > 0);
  CHECK(std::abs(e.value - reference) < 3 * e.error);
}

}  // namespace

TEST_CASE("integrators: NIS, plain Monte Carlo and every VEGAS mode are within 3 sigma on every integrand",
          "[integration]") {
  for (const auto& e : integrand_registry().entries()) {
    const IntegrandPtr f = e.build(IntegrandOptions().dimension(2));
    const double reference = testing::reference_integral(*f);
    CubeFlow flow = small_flow(2);
    ComparisonOptions o;
    o.nis = small_budget();
    o.seed = 21;
    const Comparison c = compare_integrators(*flow, *f, o);
    check_within_3_sigma(e.name + ", NIS", c.nis.integral, reference);
    check_within_3_sigma(e.name + ", plain Monte Carlo", c.uniform->integral, reference);
    check_within_3_sigma(e.name + ", VEGAS importance_only", c.vegas->integral, reference);
    CHECK(c.nis.evaluations == 12000);
    CHECK(c.uniform->evaluations == 12000);
    CHECK(c.vegas->evaluations == 12000 + 16000);
    CHECK(*c.variance_ratio_uniform == Approx(std::pow(c.uniform->integral.error / c.nis.integral.error, 2)));
    for (const auto& mode : vegas_modes()) {
      VegasOptions v;
      v.mode = mode;
      v.training_iterations = 4;
      v.training_calls = 4000;
      check_within_3_sigma(e.name + ", VEGAS " + mode, gsl_vegas(*f, v, 12000, 5).integral, reference);
    }
  }
}

TEST_CASE("integrators: every loss and survey strategy integrates the camel within 3 sigma and beats uniform",
          "[integration]") {
  const IntegrandPtr f = integrand_registry().create("camel", IntegrandOptions().dimension(2).width(0.15));
  for (const auto& loss : nis_losses())
    for (const auto& survey : survey_strategies()) {
      INFO(loss << ", " << survey);
      CubeFlow flow = small_flow(2);
      ComparisonOptions o;
      o.nis = small_budget().loss(loss).survey(survey).learning_rate(3e-3);
      o.run_vegas = false;
      o.seed = 4;
      const Comparison c = compare_integrators(*flow, *f, o);
      check_within_3_sigma("NIS", c.nis.integral, *f->exact());
      CHECK(*c.variance_ratio_uniform > 2);
      const bool any_flow = std::any_of(c.survey.begin(), c.survey.end(), [](const SurveyRecord& r) { return r.sampled_from == "flow"; });
      CHECK(any_flow == (survey != "flat"));
      CHECK(c.survey.front().sampled_from == (survey == "forward" ? "flow" : "uniform"));
      for (const auto& r : c.survey) CHECK(r.skipped_steps == 0);
      for (const auto& p : flow->parameters()) CHECK(torch::isfinite(p).all().item<bool>());
    }
}

TEST_CASE("integrators: the sample-reuse losses agree for points from the uniform density and from the flow",
          "[integration]") {
  torch::manual_seed(13);
  const IntegrandPtr f = integrand_registry().create("gaussian", IntegrandOptions().dimension(2).width(0.3));
  CubeFlow flow = small_flow(2);
  {
    torch::NoGradGuard no_grad;
    for (auto& p : flow->parameters()) p.add_(0.3 * torch::randn_like(p));
  }
  torch::NoGradGuard no_grad;
  const std::int64_t n = 200000;
  const at::Tensor xu = torch::rand({n, 2}, torch::kDouble);
  const Density s = flow->sample(n);
  for (const auto& loss : nis_losses()) {
    // Per-point terms, so that each mean has an error.
    std::vector<stats::Estimate> means;
    for (const auto& [x, log_p] : {std::pair<at::Tensor, at::Tensor>{xu, torch::zeros({n}, torch::kDouble)}, {s.phi, s.logq}}) {
      const at::Tensor fx = (*f)(x), lq = flow->log_prob(x);
      std::vector<double> parts;
      const at::Tensor terms = torch::stack({nis_loss(loss, fx.narrow(0, 0, n / 2), log_p.narrow(0, 0, n / 2), lq.narrow(0, 0, n / 2), 1.0),
                                             nis_loss(loss, fx.narrow(0, n / 2, n / 2), log_p.narrow(0, n / 2, n / 2), lq.narrow(0, n / 2, n / 2), 1.0)});
      const at::Tensor w = loss == "variance" ? fx.square() * torch::exp(-log_p - lq) : -fx * lq * torch::exp(-log_p);
      means.push_back({terms.mean().item<double>(), std::sqrt(w.var().item<double>() / n)});
    }
    INFO(loss << ": uniform " << means[0].value << " +- " << means[0].error << ", flow " << means[1].value << " +- "
              << means[1].error);
    CHECK(std::abs(means[0].value - means[1].value) < 4 * std::hypot(means[0].error, means[1].error));
  }
  CHECK_THROWS_WITH(nis_loss("chi2", xu.select(1, 0), xu.select(1, 0), xu.select(1, 0), 1.0), Catch::Contains("known: 'variance', 'kl'"));
}

TEST_CASE("integrators: inverse-variance combination and chi^2 per degree of freedom", "[integration]") {
  const auto [mean, chi2] = combine_inverse_variance({{1.0, 1.0}, {3.0, 1.0}, {2.0, 0.5}});
  // Weights 1, 1, 4: (1 + 3 + 8) / 6 = 2; error 1/sqrt(6); chi^2 = (1 + 1 + 0) / 2.
  CHECK(mean.value == Approx(2.0));
  CHECK(mean.error == Approx(1 / std::sqrt(6.0)));
  CHECK(chi2 == Approx(1.0));
  CHECK(combine_inverse_variance({{5.0, 0.2}}).second == 0);
  CHECK(combine_inverse_variance({{5.0, 0.0}, {7.0, 1.0}}).first.value == 5.0);
  CHECK_THROWS_AS(combine_inverse_variance({}), UserError);
}

TEST_CASE("integrators: bad integrands and budgets are UserErrors, never a NaN model", "[integration]") {
  CubeFlow flow = small_flow(2);
  const NisOptions o = small_budget();
  const testing::FunctionIntegrand zero(2, [](const at::Tensor& x) { return torch::zeros({x.size(0)}, x.options()); });
  CHECK_THROWS_WITH(nis_survey(*flow, zero, o), Catch::Contains("zero at all 4000 points of the first survey"));
  const testing::FunctionIntegrand negative(2, [](const at::Tensor& x) { return x.select(1, 0) - 0.5; });
  CHECK_THROWS_WITH(nis_survey(*flow, negative, o), Catch::Contains("finite values >= 0"));
  CHECK_THROWS_WITH(plain_monte_carlo(negative, 100, 1), Catch::Contains("finite values >= 0"));
  CHECK_THROWS_WITH(gsl_vegas(negative, VegasOptions(), 100, 1), Catch::Contains("finite values >= 0"));
  const testing::FunctionIntegrand nan(2, [](const at::Tensor& x) { return torch::full({x.size(0)}, NAN, x.options()); });
  CHECK_THROWS_WITH(nis_survey(*flow, nan, o), Catch::Contains("returned nan"));
  for (const auto& p : flow->parameters()) CHECK(torch::isfinite(p).all().item<bool>());

  const IntegrandPtr camel = integrand_registry().create("camel", IntegrandOptions().dimension(2));
  CHECK_THROWS_WITH(nis_survey(*flow, *camel, NisOptions(o).survey_points(0)), Catch::Contains("nis.survey_points must be an integer >= 1"));
  CHECK_THROWS_WITH(nis_refine(*flow, *camel, NisOptions(o).refine_points(0)), Catch::Contains("nis.refine_points"));
  CHECK_THROWS_WITH(nis_survey(*flow, *camel, NisOptions(o).learning_rate(NAN)), Catch::Contains("nis.learning_rate"));
  CHECK_THROWS_WITH(nis_survey(*flow, *camel, NisOptions(o).survey("backward")), Catch::Contains("unknown nis.survey"));
  CHECK_THROWS_WITH(plain_monte_carlo(*camel, 0, 1), Catch::Contains("must be >= 2"));
  VegasOptions bad;
  bad.mode = "stratifed";
  CHECK_THROWS_WITH(gsl_vegas(*camel, bad, 100, 1), Catch::Contains("did you mean 'stratified'"));
  CubeFlow wrong = small_flow(3);
  CHECK_THROWS_WITH(nis_survey(*wrong, *camel, o), Catch::Contains("[0, 1]^3"));

  // A learning rate so large that the conditioners overflow float32 after one step: the step is undone.
  CubeFlow wild = small_flow(2);
  wild->to(torch::kFloat);
  bool guarded = false;
  try {
    for (const auto& r : nis_survey(*wild, *camel, NisOptions(o).learning_rate(1e30))) guarded |= r.skipped_steps > 0;
  } catch (const UserError& e) {
    CHECK_THAT(e.what(), Catch::Contains("non-finite"));
    guarded = true;
  }
  CHECK(guarded);
  for (const auto& p : wild->parameters()) CHECK(torch::isfinite(p).all().item<bool>());
  torch::NoGradGuard no_grad;
  CHECK(torch::isfinite(wild->log_prob(torch::rand({1000, 2}))).all().item<bool>());
}
