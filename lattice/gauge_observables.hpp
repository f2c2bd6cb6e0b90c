#pragma once
// Observables of a two-dimensional U(1) gauge ensemble theta [N, 2, T, L] (lattice/u1_gauge_field.hpp),
// plain or importance-reweighted, with jackknife errors (lattice/statistics.hpp):
//
//   plaquette                   <cos theta_P>, the mean over the V plaquettes: the 1x1 Wilson loop
//   wilson_loop_2x1             <cos R> over both orientations of the 2x1 rectangles
//   topological_charge          <Q>,  Q = (1/2 pi) sum_P wrap(theta_P), an integer on the torus
//   topological_susceptibility  chi_t = <Q^2> / V (geometric charge)
//
// and, for the Schwinger model with N_f = 2 Wilson fermions (lattice/wilson_dirac.hpp, per flavour):
//
//   chiral_condensate           Sigma = (1/V) Re tr D^-1
//   pion_correlator             C_pi(t) = sum_x sum_spins |D^-1(x, t; 0, 0)|^2, t = 0 .. T-1 (a list)
//
// The fermion observables need one LU of the even-odd matrix per configuration; they are computed in
// chunks of configurations so that memory stays bounded at large N. Conventions as in Kanwar et al., PRL
// 125, 121601 (2020) [arXiv 2003.06413] and Albergo et al., PRD 106, 014514 (2022) [arXiv 2202.11712].
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <ATen/core/Tensor.h>
#include <nlohmann/json.hpp>

#include "lattice/wilson_dirac.hpp"

namespace latflow {

/// The fermions of the Schwinger model: hopping parameter and time boundary condition.
struct WilsonFermions {
  double kappa = 0;
  u1::FermionBoundary time = u1::FermionBoundary::antiperiodic;
};

/// The JSON of the observables above ({"value", "error"} each; "pion_correlator" a list of them).
nlohmann::json measure_gauge(const at::Tensor& theta, const std::vector<double>& log_w, int n_bins,
                             const std::optional<WilsonFermions>& fermions = std::nullopt);

/// Q (first: the slowest mode, which freezes as beta grows) and the mean plaquette per configuration.
std::vector<std::pair<std::string, at::Tensor>> gauge_chain_observables(const at::Tensor& theta);

}  // namespace latflow
