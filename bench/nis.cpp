// bench_nis: neural importance sampling (integration/) against plain Monte Carlo and GSL's VEGAS, in the format
// of ZüNIS's tables (Deutschmann & Götz, arXiv 2401.09069): for each integrand and dimension, the variance
// ratios (error_X / error_NIS)^2 at equal numbers of evaluations (integration/comparison.hpp), the median over
// --seeds seeds with the smallest and largest value beside it. Columns:
//
//   vs uniform      plain Monte Carlo (gsl_monte_plain)
//   vs VEGAS        GSL VEGAS, importance only (ZüNIS's comparison: their VEGAS ran with max_nhcube = 1)
//   vs VEGAS strat  GSL VEGAS in its default mode (importance sampling with stratification)
//   pull            median over seeds of (NIS - exact) / error, where the exact integral is known
//   train s, int s  median training and integration wall time of NIS; VEGAS s: both VEGAS runs together
//
// The rows: the camel at ZüNIS's sigma_1d = 0.1 widths (relative std 1.22 under uniform sampling) and at
// sigma_1d = 0.7 (relative std 0.20, the wide camels where VEGAS wins), the slashed circle (sig = 0.05, ring
// radius 0.3 sqrt(d / 2), so that the ring stays within reach of uniform points as d grows), and the sinusoid
// (a = 20, offset 0.1), each at d = 2, 4, 8, 16. VEGAS trains on the evaluations the flow's survey used.
//
//   bench_nis [--seeds 5] [--only camel,sinusoid] [--d 2,4] [--threads 1] [--survey-iterations 10] ...
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <iostream>
#include <map>
#include <string>
#include <vector>

#include <ATen/Parallel.h>
#include <CLI/CLI.hpp>
#include <torch/torch.h>

#include "core/random.hpp"
#include "integration/comparison.hpp"
#include "integration/registry.hpp"

using namespace latflow;

namespace {

struct Row {
  std::string label, integrand;
  std::int64_t d;
  IntegrandOptions options;
};

std::vector<Row> rows(const std::vector<std::string>& only, const std::vector<std::int64_t>& dims) {
  const std::map<std::int64_t, double> camel = {{2, 0.2208}, {4, 0.3784}, {8, 0.5225}, {16, 0.6672}};
  const std::map<std::int64_t, double> wide = {{2, 0.8620}, {4, 1.0470}, {8, 1.2620}, {16, 1.5141}};
  std::vector<Row> out;
  const auto wanted = [&](const std::string& name) {
    return only.empty() || std::find(only.begin(), only.end(), name) != only.end();
  };
  for (const auto& [label, name] : std::vector<std::pair<std::string, std::string>>{
           {"camel", "camel"}, {"camel_wide", "camel"}, {"slashed_circle", "slashed_circle"}, {"sinusoid", "sinusoid"}}) {
    if (!wanted(label)) continue;
    for (const std::int64_t d : dims) {
      IntegrandOptions o;
      o.dimension(d);
      if (label == "camel") o.width(camel.count(d) ? camel.at(d) : 0.2208);
      if (label == "camel_wide") o.width(wide.count(d) ? wide.at(d) : 0.8620);
      if (label == "slashed_circle") o.width(0.05).radius(0.3 * std::sqrt(static_cast<double>(d) / 2));
      if (label == "sinusoid") o.frequency(20).offset(0.1);
      out.push_back({label, name, d, o});
    }
  }
  return out;
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  const std::size_t n = v.size();
  return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

std::string spread(const std::vector<double>& v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%8.3g [%.2g, %.2g]", median(v), *std::min_element(v.begin(), v.end()),
                *std::max_element(v.begin(), v.end()));
  return buf;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Neural importance sampling against plain Monte Carlo and GSL VEGAS (ZüNIS's variance ratios)."};
  std::int64_t seeds = 5, threads = 0;
  std::vector<std::string> only;
  std::vector<std::int64_t> dims = {2, 4, 8, 16};
  ComparisonOptions base;
  CubeFlowOptions flow_options(2);
  flow_options.repetitions(1);
  std::string dtype = "float32";
  std::int64_t survey_iterations = 10, survey_points = 10000, epochs = 3, minibatch = 2000, refine_iterations = 5,
               refine_points = 20000;
  std::string loss = "variance", survey = "adaptive";
  double lr = 1e-3;
  app.add_option("--seeds", seeds, "seeds per row (1, 2, ...)")->check(CLI::PositiveNumber);
  app.add_option("--only", only, "rows: camel, camel_wide, slashed_circle, sinusoid")->delimiter(',');
  app.add_option("--d", dims, "dimensions")->delimiter(',');
  app.add_option("--threads", threads, "torch intra-op threads (0: torch's default)");
  app.add_option("--dtype", dtype, "float32 or float64 (the flow and its weights)");
  app.add_option("--transform", flow_options.transform(), "piecewise_quadratic, piecewise_linear, rq_spline_interval");
  app.add_option("--bins", flow_options.bins(), "bins of the coupling transform");
  app.add_option("--repetitions", flow_options.repetitions(), "repetitions of the iflow masks");
  app.add_option("--hidden-width", flow_options.hidden_width(), "conditioner width");
  app.add_option("--hidden-layers", flow_options.hidden_layers(), "conditioner hidden layers after the first");
  app.add_option("--survey-iterations", survey_iterations);
  app.add_option("--survey-points", survey_points);
  app.add_option("--epochs", epochs);
  app.add_option("--minibatch", minibatch);
  app.add_option("--refine-iterations", refine_iterations);
  app.add_option("--refine-points", refine_points);
  app.add_option("--loss", loss, "variance or kl");
  app.add_option("--survey", survey, "flat, forward, forward_flat_init, adaptive");
  app.add_option("--lr", lr, "Adam learning rate");
  CLI11_PARSE(app, argc, argv);
  if (threads > 0) at::set_num_threads(static_cast<int>(threads));
  base.nis.survey_iterations(survey_iterations).survey_points(survey_points).epochs(epochs).minibatch(minibatch)
      .refine_iterations(refine_iterations).refine_points(refine_points).loss(loss).survey(survey).learning_rate(lr);
  base.vegas.mode = "importance_only";
  const auto scalar = dtype == "float64" ? torch::kFloat64 : torch::kFloat32;

  std::printf("bench_nis: %s with %lld bins, iflow masks x %lld, %lld x %lld conditioner, %s; survey %lld x %lld "
              "points, %lld epochs, minibatch %lld, %s loss, %s survey, lr %g; %lld evaluations to integrate; %d threads\n",
              flow_options.transform().c_str(), static_cast<long long>(flow_options.bins()),
              static_cast<long long>(flow_options.repetitions()),
              static_cast<long long>(flow_options.hidden_layers() + 1), static_cast<long long>(flow_options.hidden_width()),
              dtype.c_str(), static_cast<long long>(survey_iterations), static_cast<long long>(survey_points),
              static_cast<long long>(epochs), static_cast<long long>(minibatch), loss.c_str(), survey.c_str(), lr,
              static_cast<long long>(refine_iterations * refine_points), at::get_num_threads());
  std::printf("%-15s %3s %-28s %-28s %-28s %7s %8s %7s %8s\n", "integrand", "d", "vs uniform", "vs VEGAS",
              "vs VEGAS strat", "pull", "train s", "int s", "VEGAS s");
  for (const Row& row : rows(only, dims)) {
    const IntegrandPtr f = integrand_registry().create(row.integrand, row.options);
    std::vector<double> uni, veg, strat, pull, train, integ, vegas_s;
    for (std::int64_t seed = 1; seed <= seeds; ++seed) {
      CubeFlowOptions fo = flow_options;
      fo.dimension(row.d);
      torch::manual_seed(static_cast<std::uint64_t>(seed));
      CubeFlow flow(fo);
      flow->to(scalar);
      ComparisonOptions o = base;
      o.seed = static_cast<std::uint64_t>(seed);
      const Comparison c = compare_integrators(*flow, *f, o);
      VegasOptions v = o.vegas;
      v.mode = "importance";
      v.training_iterations = survey_iterations;
      v.training_calls = survey_points;
      const MonteCarloResult s = gsl_vegas(*f, v, c.nis.evaluations, derive_seed(o.seed, 3));
      uni.push_back(*c.variance_ratio_uniform);
      veg.push_back(*c.variance_ratio_vegas);
      strat.push_back(std::pow(s.integral.error / c.nis.integral.error, 2));
      if (c.exact) pull.push_back((c.nis.integral.value - *c.exact) / c.nis.integral.error);
      train.push_back(c.train_seconds);
      integ.push_back(c.nis.seconds);
      vegas_s.push_back(c.vegas->seconds + s.seconds);
      std::fprintf(stderr, "  %s d=%lld seed %lld: NIS %.6g +- %.2g, ratios %.3g / %.3g / %.3g, %.0f s\n",
                   row.label.c_str(), static_cast<long long>(row.d), static_cast<long long>(seed),
                   c.nis.integral.value, c.nis.integral.error, uni.back(), veg.back(), strat.back(),
                   c.train_seconds + c.nis.seconds);
    }
    char pull_text[16] = "      -";
    if (!pull.empty()) std::snprintf(pull_text, sizeof pull_text, "%7.2f", median(pull));
    std::printf("%-15s %3lld %-28s %-28s %-28s %7s %8.1f %7.1f %8.1f\n", row.label.c_str(),
                static_cast<long long>(row.d), spread(uni).c_str(), spread(veg).c_str(), spread(strat).c_str(),
                pull_text, median(train), median(integ), median(vegas_s));
    std::fflush(stdout);
  }
  return 0;
}
