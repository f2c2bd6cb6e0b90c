#pragma once
// Checkerboard single-spin-flip Metropolis for the Ising model (lattice/ising_action.hpp), a reference sampler
// that never calls Action::action. Flipping s(x) changes the action by
//
//   Delta S = 2 beta J s(x) n(x),   n(x) = sum_{+-mu} s(x +- mu),
//
// and the flip is accepted with probability min(1, exp(-Delta S)) (Metropolis et al., J. Chem. Phys. 21, 1087
// (1953)), except that a flip that costs nothing (n(x) = 0) is accepted with probability 1/2, not 1. On even T
// and L the sites of one colour of the checkerboard have all their neighbours in the other colour, so all
// sites of a colour, of all chains, are updated at once with tensor operations on any device; a sweep is both
// colours, N = T L proposals. With the plain Metropolis rule such updates are not ergodic: where every site
// has n(x) = 0 (the period-2 stripes among others, 36 configurations on 4x4, 4 of the 16 on 2x2), a colour
// update flips all its sites and leaves n = 0 everywhere, so these configurations form a closed class that a
// hot start can land in and no other configuration reaches (on 2x2 at beta = 0.44 it holds 5% of Z, and a
// quarter of the chains). Any acceptance of the free flips that is the same both ways keeps detailed balance;
// with 1/2 those configurations are left and reached like any other (the test of the 2x2 energy levels fails
// with the plain rule). Near the critical point its autocorrelation times grow like
// L^z with z ~ 2.17 (Nightingale, Blöte, PRL 76, 4548 (1996)), against z ~ 0.25 for Wolff's clusters
// (lattice/wolff.hpp).
#include <cstdint>
#include <functional>

#include <ATen/core/Tensor.h>
#include <c10/core/TensorOptions.h>

#include "lattice/ising_action.hpp"

namespace latflow {

/// How long the Markov chains of an Ising sampler run and which sweeps they keep (Metropolis and Wolff).
struct SpinChainSchedule {
  std::int64_t chains = 32;
  std::int64_t thermalization = 500;  ///< sweeps discarded
  std::int64_t sweeps = 2000;         ///< measured sweeps per chain
  std::int64_t measure_every = 1;     ///< keep every k-th measured sweep

  /// A UserError starting with `who` unless chains, sweeps >= 1, thermalization >= 0 and
  /// 1 <= measure_every <= sweeps.
  void validate(const char* who) const;
};

using IsingMetropolisOptions = SpinChainSchedule;

struct IsingMetropolisResult {
  /// [sweeps/measure_every * chains, T, L] of +-1 in the requested dtype and device, chain-major like
  /// HMCResult::samples.
  at::Tensor samples;
  double acceptance = 0;  ///< accepted fraction of the single-spin proposals of the measured sweeps
  double seconds = 0;
};

/// Runs from a hot start (independent random spins); needs even T and L and a floating dtype.
/// `progress(done, total, acceptance)` is called after every sweep (thermalisation included) with the
/// acceptance of the current phase so far.
IsingMetropolisResult run_ising_metropolis(
    const IsingAction& action, const Lattice& lattice, const IsingMetropolisOptions& options,
    const c10::TensorOptions& tensor_options,
    const std::function<void(std::int64_t done, std::int64_t total, double acceptance)>& progress = {});

}  // namespace latflow
