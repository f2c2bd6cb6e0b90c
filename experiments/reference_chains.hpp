#pragma once
// The reference Markov chains of a run card's theory, independent of every flow: what `latflow mcmc`
// prints and what flow evaluations are compared with. A theory with a force (phi^4, U(1), the Schwinger
// model) has HMC; Ising spins have Wolff's cluster algorithm and checkerboard Metropolis, whose
// autocorrelation times show the critical slowing down that a sampler of independent proposals avoids.
#include <ostream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "experiments/session.hpp"

namespace latflow {

struct ReferenceChain {
  std::string name;        ///< "hmc", "wolff", "metropolis"
  nlohmann::json results;  ///< observables with errors, tau_int of the chain observables, cost, seconds
};

/// Runs the theory's reference chains with the card's [hmc] or [reference] settings, the one that flow
/// observables are compared with first; progress goes to `progress_out`. Each result holds "lattice",
/// "observables", "tau_int" (in trajectories or sweeps), "measurements", "seconds",
/// "cost_per_effective_sample" and the sampler's own diagnostics (acceptance, step size, cluster size).
std::vector<ReferenceChain> run_reference_chains(const Session& session, std::ostream& progress_out, bool terminal);

}  // namespace latflow
