#pragma once
// Neural importance sampling against its baselines on one integrand, at equal numbers of evaluations, as ZüNIS
// benchmarks it (Deutschmann & Götz, arXiv 2401.09069): the flow is trained by the survey and integrates with
// E = refine_iterations x refine_points evaluations; plain Monte Carlo integrates with E uniform points; VEGAS
// trains its grid on the evaluations the survey spent and then integrates with E. The variance ratios
//
//   variance_ratio_X = (error_X / error_NIS)^2
//
// are > 1 where the flow wins (the seed's "speed-up"). Training and integration times are reported apart.
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "integration/cube_flow.hpp"
#include "integration/gsl_baselines.hpp"
#include "integration/integrand.hpp"
#include "integration/neural_importance_sampling.hpp"

namespace latflow {

struct ComparisonOptions {
  NisOptions nis;
  VegasOptions vegas;
  bool uniform = true;       ///< run the plain Monte Carlo baseline
  bool run_vegas = true;     ///< run the VEGAS baseline
  std::uint64_t seed = 1;
};

struct Comparison {
  std::vector<SurveyRecord> survey;
  RefineResult nis;
  double train_seconds = 0;
  std::optional<MonteCarloResult> uniform, vegas;
  std::optional<double> exact;
  std::int64_t survey_evaluations = 0;
  std::optional<double> variance_ratio_uniform, variance_ratio_vegas;

  /// {integral, error, exact, n_evaluations, chi2_dof, weight_relative_std, unweighting_efficiency,
  ///  seconds: {train, integrate}, variance_ratio: {uniform, vegas}, uniform: {...}, vegas: {...}}; absent
  /// values are null.
  nlohmann::json to_json() const;
};

/// What runs, for progress reports: ("survey", iteration), ("refine", iteration), ("uniform", 0), ("vegas", 0).
using ComparisonProgress = std::function<void(const std::string& phase, std::int64_t done, const std::string& status)>;

/// Seeds torch's default generators (and GSL's) from options.seed, trains `flow` and integrates.
Comparison compare_integrators(CubeFlowImpl& flow, const Integrand& f, const ComparisonOptions& options,
                               const ComparisonProgress& progress = {});

}  // namespace latflow
