#pragma once
// Wolff's single-cluster algorithm for the ferromagnetic Ising model (lattice/ising_action.hpp), U. Wolff,
// PRL 62, 361 (1989). From a uniformly chosen seed site, every bond to a neighbour of the same spin joins
// the cluster with probability
//
//   p_add = 1 - exp(-2 beta J),
//
// and the whole cluster is flipped. Every move is accepted and satisfies detailed balance for J > 0 (for J < 0
// the weights would not be probabilities; use Metropolis). The mean cluster size is the improved estimator
// <|C|> = N <m^2>. Near the critical point its autocorrelation times grow like L^z with z ~ 0.25 (Coddington,
// Baillie, PRL 68, 962 (1992)) against z ~ 2.17 for local updates (lattice/ising_metropolis.hpp): at L = 16,
// beta = 0.44, tau_int of |m| is 1.2 sweeps against 28 for checkerboard Metropolis (tests/lattice/wolff_test.cpp).
//
// The unit of time. tau_int depends on it, so that it is comparable with Metropolis, a sweep is a fixed
// number of cluster flips, clusters_per_sweep, that flips about N = T L spins on average: by default N / <|C|>,
// rounded and at least 1, with <|C|> the mean cluster size of the first half of the thermalisation (rounded
// up), whose sweeps flip clusters until N spins have flipped; the rest of the run uses the fixed count. It is
// fixed, not "until N spins have flipped", because a state taken at a time that depends on the cluster sizes
// is biased (the last cluster of such a sweep tends to be large): on 4x4 at beta = 0.44, one cluster after
// such a sweep over-weights the ordered states by 9%.
//
// The algorithm is sequential: chains run on the CPU in parallel (at::parallel_for), each with its own
// std::mt19937_64 seeded from one draw of LibTorch's default CPU generator (so run.seed makes a run
// reproducible, for any number of threads), over int8 spins with a stack of the cluster's frontier.
#include <cstdint>
#include <functional>

#include <ATen/core/Tensor.h>

#include "lattice/ising_action.hpp"
#include "lattice/ising_metropolis.hpp"

namespace latflow {

struct WolffOptions : SpinChainSchedule {
  /// Cluster flips per sweep; 0: N / <|C|> of the first half of the thermalisation, which then needs >= 1 sweep.
  std::int64_t clusters_per_sweep = 0;
};

struct WolffResult {
  /// [sweeps/measure_every * chains, T, L] of +-1, float64 on the CPU, chain-major like HMCResult::samples.
  at::Tensor samples;
  std::int64_t clusters_per_sweep = 0;  ///< the count used (the option, or the automatic choice)
  double mean_cluster_size = 0;         ///< <|C|> over the clusters of the measured sweeps
  double seconds = 0;
};

/// Runs from a hot start (independent random spins); needs J > 0 and T, L >= 2.
/// `progress(done, total, cluster_fraction)` is called after every sweep (thermalisation included) with the
/// mean cluster size of the current phase so far, as a fraction of N.
WolffResult run_wolff(
    const IsingAction& action, const Lattice& lattice, const WolffOptions& options,
    const std::function<void(std::int64_t done, std::int64_t total, double cluster_fraction)>& progress = {});

}  // namespace latflow
