#pragma once
// The baselines of neural importance sampling, from a real library rather than our own ports: GSL's plain
// Monte Carlo (gsl_monte_plain) and its VEGAS (gsl_monte_vegas: Lepage, J. Comput. Phys. 27 (1978) 192, in the
// classic form of GSL's monte/vegas.c, which follows Yennie's C version; at most 50 increments per axis,
// a separable grid).
//
// VEGAS is run as ZüNIS benchmarks it (Deutschmann & Götz, arXiv 2401.09069, vegas_benchmarks.py): the grid is
// trained for `training_iterations` iterations of `training_calls` evaluations each (the evaluations NIS
// spends on its survey), then the integral is one further iteration of the evaluation budget on the trained
// grid, with GSL's stage 1 (grid kept, earlier averages dropped), so that its error is that of an equal number
// of evaluations. Modes (GSL's): importance_only (no stratification; ZüNIS's comparison), importance (GSL's
// default: importance sampling with stratification where the boxes allow) and stratified.
//
// GSL calls the integrand one point at a time (its only interface), here through the batched Integrand on a
// [1, d] tensor: the baselines' wall time is dominated by that per-call overhead (bench/RESULTS.md), not by
// GSL. GSL's error handler is switched off; its failures become UserErrors.
#include <cstdint>
#include <string>
#include <vector>

#include "integration/integrand.hpp"
#include "lattice/statistics.hpp"

namespace latflow {

/// An integral estimated by a baseline.
struct MonteCarloResult {
  stats::Estimate integral;
  double chi2_dof = 0;          ///< VEGAS: of its training iterations (GSL's chisq); plain: 0
  std::int64_t evaluations = 0; ///< all calls of f, training included
  double seconds = 0;
};

/// Plain Monte Carlo with `calls` uniform points (gsl_monte_plain), seeded by `seed`. UserError for calls < 2.
MonteCarloResult plain_monte_carlo(const Integrand& f, std::int64_t calls, std::uint64_t seed);

struct VegasOptions {
  std::string mode = "importance_only";  ///< importance_only, importance, stratified
  std::int64_t training_iterations = 10;
  std::int64_t training_calls = 10000;
  double alpha = 1.5;                    ///< GSL's grid stiffness (its default)
};

/// "importance_only", "importance", "stratified".
std::vector<std::string> vegas_modes();

/// VEGAS: trains the grid, then integrates with `calls` evaluations. UserError for calls < 2, counts < 1, an
/// alpha that is not finite and >= 0, or an unknown mode.
MonteCarloResult gsl_vegas(const Integrand& f, const VegasOptions& options, std::int64_t calls, std::uint64_t seed);

}  // namespace latflow
