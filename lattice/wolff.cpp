#include "lattice/wolff.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <limits>
#include <random>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include <ATen/ATen.h>
#include <ATen/Parallel.h>

#include "core/error.hpp"
#include "core/random.hpp"

namespace latflow {

namespace {

struct Chain {
  std::mt19937_64 rng;
  std::vector<std::int8_t> s;
  std::vector<std::int32_t> frontier;
  std::int64_t clusters = 0, flipped = 0;  // of the current phase
};

/// The four neighbours of site t L + x at 4 (t L + x) .. 4 (t L + x) + 3; on an extent of 2 both neighbours
/// along it are the same site, and its two bonds are tried separately, as H counts them.
std::vector<std::int32_t> neighbour_table(const Lattice& lattice) {
  const auto T = static_cast<std::int32_t>(lattice.T), L = static_cast<std::int32_t>(lattice.L);
  std::vector<std::int32_t> table;
  table.reserve(4 * static_cast<std::size_t>(T) * L);
  for (std::int32_t t = 0; t < T; ++t)
    for (std::int32_t x = 0; x < L; ++x)
      for (std::int32_t n : {((t + 1) % T) * L + x, ((t + T - 1) % T) * L + x, t * L + (x + 1) % L,
                             t * L + (x + L - 1) % L})
        table.push_back(n);
  return table;
}

/// Grows one cluster from a random seed, flipping its spins as they join (a flipped spin no longer matches,
/// so no site joins twice); returns its size.
std::int64_t flip_cluster(Chain& c, const std::vector<std::int32_t>& neighbours, double p_add) {
  const auto n_sites = static_cast<std::int32_t>(c.s.size());
  const std::int32_t seed = std::uniform_int_distribution<std::int32_t>(0, n_sites - 1)(c.rng);
  std::bernoulli_distribution joins(p_add);
  const std::int8_t old = c.s[seed];
  c.s[seed] = static_cast<std::int8_t>(-old);
  c.frontier.assign(1, seed);
  std::int64_t size = 1;
  while (!c.frontier.empty()) {
    const std::int32_t site = c.frontier.back();
    c.frontier.pop_back();
    for (int k = 0; k < 4; ++k) {
      const std::int32_t n = neighbours[4 * static_cast<std::size_t>(site) + k];
      if (c.s[n] == old && joins(c.rng)) {
        c.s[n] = static_cast<std::int8_t>(-old);
        c.frontier.push_back(n);
        ++size;
      }
    }
  }
  ++c.clusters;
  c.flipped += size;
  return size;
}

}  // namespace

WolffResult run_wolff(const IsingAction& action, const Lattice& lattice, const WolffOptions& options,
                      const std::function<void(std::int64_t, std::int64_t, double)>& progress) {
  options.validate("Wolff");
  if (!(action.J() > 0)) {
    std::ostringstream s;
    s << "Wolff: J = " << action.J()
      << " is not allowed; the cluster algorithm needs a ferromagnet, J > 0 (Metropolis takes any J)";
    throw UserError(s.str());
  }
  if (lattice.T < 2 || lattice.L < 2) throw UserError("Wolff: needs T, L >= 2, got " + lattice.str());
  if (options.clusters_per_sweep < 0 || (options.clusters_per_sweep == 0 && options.thermalization == 0))
    throw UserError("Wolff: clusters_per_sweep = " + std::to_string(options.clusters_per_sweep) +
                    ", need >= 1, or 0 (N / mean cluster size) with thermalization >= 1");
  const auto start = std::chrono::steady_clock::now();
  const std::int64_t N = lattice.volume(), C = options.chains;
  const double p_add = -std::expm1(-2 * action.beta() * action.J());
  const std::vector<std::int32_t> neighbours = neighbour_table(lattice);

  const at::Tensor seed_draw =
      at::randint(std::numeric_limits<std::int64_t>::max(), {1}, at::TensorOptions().dtype(at::kLong));
  const auto base_seed = static_cast<std::uint64_t>(seed_draw.item<std::int64_t>());
  std::vector<Chain> chains(static_cast<std::size_t>(C));
  for (std::int64_t c = 0; c < C; ++c) {
    Chain& chain = chains[c];
    chain.rng.seed(derive_seed(base_seed, static_cast<std::uint64_t>(c)));
    std::bernoulli_distribution up(0.5);
    chain.s.resize(static_cast<std::size_t>(N));
    for (auto& spin : chain.s) spin = up(chain.rng) ? 1 : -1;
  }

  const std::int64_t n_meas = options.sweeps / options.measure_every;
  at::Tensor samples = at::empty({C * n_meas, lattice.T, lattice.L}, at::TensorOptions().dtype(at::kDouble));
  double* out = samples.data_ptr<double>();
  std::int64_t clusters_per_sweep = options.clusters_per_sweep;
  const std::int64_t total = options.thermalization + options.sweeps;
  const auto phase_totals = [&] {
    std::int64_t clusters = 0, flipped = 0;
    for (const Chain& c : chains) clusters += c.clusters, flipped += c.flipped;
    return std::pair<double, double>(static_cast<double>(clusters), static_cast<double>(flipped));
  };
  // With the automatic count, the first half of the thermalisation (rounded up) flips until N spins have
  // flipped and sets the count; the bias of that stopping rule then decays during the second half like any
  // other memory of the start.
  const std::int64_t variable_sweeps = options.clusters_per_sweep == 0 ? (options.thermalization + 1) / 2 : 0;
  for (std::int64_t sweep = 0; sweep < total; ++sweep) {
    if (sweep == variable_sweeps && clusters_per_sweep == 0) {
      const auto [clusters, flipped] = phase_totals();
      clusters_per_sweep = std::max<std::int64_t>(1, std::llround(static_cast<double>(N) * clusters / flipped));
    }
    if (sweep == options.thermalization)
      for (Chain& c : chains) c.clusters = c.flipped = 0;
    const bool measuring = sweep >= options.thermalization;
    const std::int64_t measured = sweep + 1 - options.thermalization;
    const bool keep = measuring && measured % options.measure_every == 0;
    at::parallel_for(0, C, 1, [&](std::int64_t begin, std::int64_t end) {
      for (std::int64_t c = begin; c < end; ++c) {
        Chain& chain = chains[c];
        if (sweep < variable_sweeps) {
          for (std::int64_t flipped = 0; flipped < N;) flipped += flip_cluster(chain, neighbours, p_add);
        } else {
          for (std::int64_t k = 0; k < clusters_per_sweep; ++k) flip_cluster(chain, neighbours, p_add);
        }
        if (keep) {
          double* row = out + (c * n_meas + measured / options.measure_every - 1) * N;
          for (std::int64_t i = 0; i < N; ++i) row[i] = chain.s[i];
        }
      }
    });
    if (progress) {
      const auto [clusters, flipped] = phase_totals();
      progress(sweep + 1, total, flipped / clusters / static_cast<double>(N));
    }
  }

  WolffResult result;
  result.samples = samples;
  result.clusters_per_sweep = clusters_per_sweep;
  const auto [clusters, flipped] = phase_totals();
  result.mean_cluster_size = flipped / clusters;
  result.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return result;
}

}  // namespace latflow
