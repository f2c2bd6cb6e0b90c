#pragma once
// The HMC reference measurement of a run card's theory: what `latflow hmc` prints and what flow
// evaluations are compared with.
#include <ostream>

#include <nlohmann/json.hpp>

#include "experiments/session.hpp"

namespace latflow {

/// Runs HMC with the card's [hmc] settings; progress goes to `progress_out`. Returns the results JSON
/// (observables with errors, tau_int of |M| and M^2, acceptance, cost per effective sample, seconds).
nlohmann::json run_hmc_reference(const Session& session, std::ostream& progress_out, bool terminal);

}  // namespace latflow
