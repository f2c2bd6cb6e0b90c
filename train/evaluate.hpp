#pragma once
// Evaluation of a trained flow as a sampler of exp(-S)/Z: draw N configurations with their exact log q,
// and report
//  - the effective sample size ESS/N = (sum w)^2 / (N sum w^2) of the weights w = exp(-S - log q);
//  - the observables of lattice/observables.hpp, importance-reweighted, with jackknife errors;
//  - the independence Metropolis-Hastings chain of the flow's proposals: acceptance and tau_int of |M|
//    (Albergo, Kanwar & Shanahan 2019);
//  - log Z (importance sampling) and the reverse KL, each with an error;
//  - for continuous flows, a density check: the same base samples transported with a refined solve
//    (4x the steps), so a flow that exploits its solver's discretisation error is exposed.
#include <cstdint>

#include <nlohmann/json.hpp>

#include "flows/flow.hpp"
#include "lattice/action.hpp"

namespace latflow {

struct EvaluationOptions {
  std::int64_t n = 4096;      ///< samples
  std::int64_t batch = 1024;  ///< samples per batch
  int bins = 64;              ///< jackknife bins
  std::uint64_t seed = 1;     ///< seed of the independence Metropolis chain
  bool density_check = true;
};

/// The evaluation as JSON: {"ess", "acceptance", "tau_int": {"abs_magnetization": {...}},
/// "observables": {...}, "log_z": {...}, "kl": {...}, "seconds", "samples_per_second", "density_check"}.
nlohmann::json evaluate_flow(FlowImpl& flow, const Action& action, const Lattice& lattice,
                             const EvaluationOptions& options);

}  // namespace latflow
