#pragma once
// Checkerboard single-site Metropolis for the phi^4 action (lattice/phi4_action.hpp): an independent check
// of HMC that never calls Action::action or Action::force. The action terms that involve the site x are
//
//   s_x(phi_x) = -2 phi_x n_x + (4 + m2) phi_x^2 + lambda phi_x^4,   n_x = sum_{+-mu} phi(x +- mu),
//
// so a proposal phi_x -> phi_x + u, u ~ U(-w, w), changes S by s_x(phi_x + u) - s_x(phi_x) and is accepted
// with probability min(1, exp(-that)) (Metropolis et al., J. Chem. Phys. 21, 1087 (1953)). On even T and L
// the sites of one colour of the checkerboard have all their neighbours in the other colour, so all sites
// of a colour (of all chains) are updated at once; a sweep is both colours.
#include <cstdint>

#include <ATen/core/Tensor.h>
#include <c10/core/TensorOptions.h>

#include "lattice/phi4_action.hpp"

namespace latflow {

struct MetropolisOptions {
  std::int64_t chains = 32;
  std::int64_t thermalization = 500;  ///< sweeps discarded
  std::int64_t sweeps = 2000;         ///< measured sweeps per chain
  double proposal_width = 1.0;        ///< w of the uniform proposal U(-w, w)
  std::int64_t measure_every = 1;     ///< keep every k-th measured sweep
};

struct MetropolisResult {
  /// [sweeps/measure_every * chains, T, L], chain-major like HMCResult::samples.
  at::Tensor samples;
  double acceptance = 0;  ///< accepted fraction of the single-site proposals of the measured sweeps
  double seconds = 0;
};

/// Runs from a hot start (phi ~ N(0,1)); needs even T and L.
MetropolisResult run_metropolis(const Phi4Action& action, const Lattice& lattice, const MetropolisOptions& options,
                                const c10::TensorOptions& tensor_options);

}  // namespace latflow
