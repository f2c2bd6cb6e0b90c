#pragma once
// Evaluation of a trained model (flow or autoregressive network) as a sampler of exp(-S)/Z: draw N configurations with their log q, and report
//  - the effective sample size ESS/N = (sum w)^2 / (N sum w^2) of the weights w = exp(-S - log q);
//  - the theory's observables (Action::measure), importance-reweighted, with jackknife errors, and its
//    exact values where known (Action::exact);
//  - the independence Metropolis-Hastings chain of the flow's proposals: acceptance and tau_int of each of
//    the theory's chain observables (|M| for phi^4; Albergo, Kanwar & Shanahan 2019);
//  - log Z (importance sampling) and the reverse KL, each with an error, and the free energy per site
//    f = -ln Z / (beta V) (Action::inverse_temperature), variational (an upper bound) and by importance
//    sampling, against the exact f where the theory knows ln Z;
//  - for continuous flows, the solver error, estimated and propagated (below).
//
// The solver error of a continuous flow. A fixed-step solve returns phi_h = Phi_h(z) and log q_h, the
// solver's integral of -div v along the discrete trajectory. Neither is exact, and log q_h is not the
// log-density of the discrete map either, so every weight carries an error O(h^p) (p the order of the
// method) that no statistical error bar contains. The evaluation therefore transports the same base
// samples z a second time with a reference solve (refine_factor x the steps, or tolerances / 100 for an
// adaptive method) and, by Richardson's argument (the error of a solve with step h is C h^p + ...),
// estimates the error of the model's solve as
//
//   delta X = (X_h - X_{h/k}) k^p / (k^p - 1)                 (fixed steps, refinement k, order p)
//   delta X = (X_tol - X_{tol/100}) 100 / 99                  (adaptive: error proportional to tol)
//
// for X the per-sample log weight and for every estimate computed from the ensemble (observables, log Z):
// the estimate on (phi_h, log q_h) minus the same estimate on the reference ensemble, which is built from
// the same z and so has almost the same statistical fluctuation. That difference is the bias the
// discretisation puts into the estimate, reported as `systematic` beside the jackknife `error` of each
// {"value", "error", "systematic"}. The check passes when every systematic error is at most
// `max_solver_error_ratio` times the statistical one. The estimate is asymptotic: it is reliable once the
// reference solve is much more accurate than the model's (small h); far outside that regime it is only an
// order of magnitude. Transforms without an ODE (coupling, hierarchical flows) have an exact log-density up
// to rounding: their systematic errors are 0.
//
// `solver = "adaptive"` evaluates with Dormand-Prince 5(4) at tolerances rtol/atol instead of the model's
// solver, in float64, so that the error is controlled by the tolerance (the reference then uses tol / 100),
// reporting the number of function evaluations.
#include <cstdint>
#include <string>

#include <nlohmann/json.hpp>

#include "flows/sampler.hpp"
#include "lattice/action.hpp"
#include "odes/integrate.hpp"

namespace latflow {

struct EvaluationOptions {
  std::int64_t n = 4096;      ///< samples
  std::int64_t batch = 1024;  ///< samples per batch
  int bins = 64;              ///< jackknife bins
  std::uint64_t seed = 1;     ///< seed of the independence Metropolis chain
  bool solver_check = true;   ///< estimate the solver error with a reference solve (continuous flows)
  std::int64_t refine_factor = 2;      ///< k: the reference solve of a fixed-step method takes k x the steps
  double max_solver_error_ratio = 0.2; ///< the check passes when systematic <= this x statistical error
  std::string solver = "model";        ///< "model": the flow's own solver; "adaptive": dopri5 at rtol/atol
  double rtol = 1e-8, atol = 1e-10;    ///< tolerances of the adaptive evaluation
};

/// The reference of the solver-error estimate for a solve with `used` (above): refine_factor x the steps of a
/// fixed-step method, or its tolerances / 100 for an adaptive one, and the factor that turns a difference
/// X_h - X_reference into the error estimate of X_h (k^p / (k^p - 1), or 100 / 99).
struct ReferenceSolve {
  odes::SolverOptions solver;
  double factor = 1;
};
ReferenceSolve reference_solve(const odes::SolverOptions& used, std::int64_t refine_factor);

/// The estimated solver error |delta log w| of each of `n` samples of a continuous flow, drawn from the current
/// random stream and transported by its own solve and by the reference solve (float64, CPU): the trainer's
/// guard against a flow that exploits its solve. An undefined tensor for samplers without an ODE solve.
at::Tensor solver_log_w_errors(SamplerImpl& flow, const Action& action, const Lattice& lattice, std::int64_t n,
                               std::int64_t refine_factor = 2);

/// The evaluation as JSON: {"n", "ess", "acceptance", "tau_int": {<chain observable>: {...}},
/// "chain_observable" (the first of them, which sets the cost of the chain),
/// "observables": {...}, "exact" (when known), "log_z": {...}, "kl": {...}, "free_energy": {"variational",
/// "importance"; "exact", "variational_minus_exact_relative", "importance_pull" when ln Z is known},
/// "seconds", "samples_per_second",
/// "solver_error": {...}}.
/// "solver_error" holds {"applies"} and, for continuous flows, the solver used ("solver": method, steps,
/// rtol, atol, nfe per sample), the reference, "log_w" (mean/max |delta log w|), "ess_reference", the
/// largest ratio systematic/statistical ("ratio", and "worst": the estimate it belongs to), the
/// threshold and "ok". Undefined observables are null.
nlohmann::json evaluate_model(SamplerImpl& flow, const Action& action, const Lattice& lattice,
                             const EvaluationOptions& options);

/// Puts a continuous flow on the solver the evaluation asks for: with solver = "adaptive", dopri5 at
/// rtol/atol and the flow moved to float64; otherwise (and for other flows) nothing changes. `latflow
/// sample` draws with it too, so its configurations and log q are those the evaluation reports on.
void use_evaluation_solver(SamplerImpl& flow, const EvaluationOptions& options);

/// Adds "systematic" = factor |a - b| to every {"value", "error"} object of `a` that has a counterpart in
/// `b` (same key, or same position in an array of the same length); those without one, and nulls, stay
/// as they are. Returns the largest systematic / error ratio and where it is (its key path).
std::pair<double, std::string> add_systematic_errors(nlohmann::json& a, const nlohmann::json& b, double factor);

}  // namespace latflow
