#pragma once
// The CNF equations of motion on the solver's state x = (phi, log q) (Chen et al. 2018, eq. 4 — the
// instantaneous change of variables):
//
//   d/dt (phi, log q) = (v_t(phi), - div v_t(phi)).
//
// This is where a Dynamics meets a Stepper; each call counts one function evaluation.
#include <cstdint>

#include "odes/dynamics.hpp"
#include "odes/stepper.hpp"

namespace latflow::odes {

/// The vector field above; `nfe` is incremented per evaluation and must outlive the returned field.
/// A Dynamics returning v not shaped like phi, or a divergence not shaped [B], is a logic_error.
VectorField cnf_field(Dynamics& dynamics, std::int64_t& nfe);

}  // namespace latflow::odes
